// Package localsite starts the real site in this process on a free
// loopback port, with a fresh key and a throwaway SQLite file, for the
// tools that measure or photograph it (loadbench, soak, screenshot).
package localsite

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"atoll/config"
	"atoll/internal/seal"
	"atoll/internal/server"
	"atoll/internal/store"
)

// Site is a running local site.
type Site struct {
	URL   string
	srv   *server.Server
	store *store.SQLite
	dir   string
}

// Start serves the site with log as its logger.
func Start(log zerolog.Logger) (*Site, error) {
	dir, err := os.MkdirTemp("", "atoll-local-")
	if err != nil {
		return nil, err
	}
	st, err := store.OpenSQLite(filepath.Join(dir, "atoll.db"), time.Now)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cfg := config.Default()
	cfg.Keys, _ = seal.ParseKeys(seal.GenerateKey())
	srv, err := server.New(server.Options{Config: cfg, Log: log, Store: st})
	if err == nil {
		var ln net.Listener
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err == nil {
			go func() { _ = srv.Serve(ln) }()
			return &Site{URL: "http://" + ln.Addr().String(), srv: srv, store: st, dir: dir}, nil
		}
	}
	st.Close()
	os.RemoveAll(dir)
	return nil, err
}

// Close stops the server and removes its files.
func (s *Site) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	s.store.Close()
	os.RemoveAll(s.dir)
}
