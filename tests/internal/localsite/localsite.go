// Package localsite starts the demo site in this process on a free
// loopback port, through server.App like cmd/server, with a fresh key
// and a throwaway SQLite file, for the tools that measure or photograph
// it (loadbench, soak, screenshot).
package localsite

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/server"
)

// Site is a running local site.
type Site struct {
	URL string
	// MetricsURL is the base URL of the site's metrics listener.
	MetricsURL string
	app        *server.App
	dir        string
}

// Start serves the demo site with log as its logger.
func Start(log zerolog.Logger) (*Site, error) { return StartWith(log, "") }

// StartWith serves the demo site on the store db names (a postgres://
// URL), or on a throwaway SQLite file when db is empty.
func StartWith(log zerolog.Logger, db string) (*Site, error) {
	dir, err := os.MkdirTemp("", "atoll-local-")
	if err != nil {
		return nil, err
	}
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DB = filepath.Join(dir, "atoll.db")
	if db != "" {
		cfg.DB = db
	}
	cfg.Keys, _ = seal.ParseKeys(seal.GenerateKey())
	cfg.MetricsAddr = "127.0.0.1:0"
	app := &server.App{Config: cfg, Log: log, Site: atoll.Demo()}
	if err := app.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Site{URL: "http://" + app.Addr, MetricsURL: "http://" + app.MetricsAddr, app: app, dir: dir}, nil
}

// Routes are the demo's page routes.
func (s *Site) Routes() []string { return s.app.Server.Routes() }

// Close stops the server and removes its files.
func (s *Site) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.app.Stop(ctx)
	os.RemoveAll(s.dir)
}
