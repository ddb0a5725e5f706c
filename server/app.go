package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/store"
)

// App is one way to start a site, whoever starts it (cmd/server, the
// atolltest package, the tools): it opens the store with the site's
// migrations, builds the Server, listens, and runs the background work
// (the hourly purge of expired sessions, the store's health watch) until
// Stop.
//
//	app := &server.App{Config: cfg, Log: log, Site: mysite.Site()}
//	err := app.Run(ctx) // until ctx ends, then a graceful stop
type App struct {
	// Config is the configuration: config.FromEnv, or config.Default
	// with changes. Required.
	Config config.Config
	// Log receives the server's log; the zero Logger logs nothing.
	Log zerolog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Site is the site to serve; Site.Files is required.
	Site Site
	// Listener, when set, is served instead of listening on Config.Addr.
	Listener net.Listener
	// Store, when set, is used instead of opening Config.DB; the caller
	// has applied the site's migrations and closes it.
	Store store.Store

	// Set by Start.
	Server *Server
	// Addr is the address the server listens on.
	Addr string
	// MetricsAddr is the address of the metrics listener, when there is
	// one (Config.MetricsAddr).
	MetricsAddr string
	metrics     *http.Server
	served      chan error
	stop        context.CancelFunc
	done        chan struct{}
	close       func() error
}

// Open opens the store, builds the server and starts the background
// work, without listening: for a site mounted in another Fiber app
// (Server.Mount). On error nothing is left open.
func (a *App) Open() (err error) {
	if a.Server != nil {
		return errors.New("server: App opened twice")
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	a.close = func() error { return nil }
	if len(a.Config.Keys) == 0 && !store.IsPostgres(a.Config.DB) {
		keys, file, err := keptKeys(a.Config.DB)
		if err != nil {
			return err
		}
		a.Config.Keys = keys
		a.Log.Info().Str("file", file).Msg("ATOLL_KEYS is not set, so island props are sealed with the key kept in this file, beside the database; replicas that share a store need ATOLL_KEYS")
	}
	if a.Store == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		st, err := store.Open(ctx, a.Config.DB, a.Now, a.Site.Migrations...)
		cancel()
		if err != nil {
			return fmt.Errorf("ATOLL_DB=%s: %w", config.Redact(a.Config.DB), err)
		}
		a.Store, a.close = st, st.Close
	}
	srv, err := New(Options{Config: a.Config, Log: a.Log, Now: a.Now, Store: a.Store, Site: a.Site})
	if err != nil {
		a.close()
		return err
	}
	a.Server = srv
	ctx, stop := context.WithCancel(context.Background())
	a.stop, a.done = stop, make(chan struct{})
	go func() {
		defer close(a.done)
		var watched sync.WaitGroup
		watched.Go(func() { srv.WatchStore(ctx) })
		a.purgeHourly(ctx)
		watched.Wait()
	}()
	return nil
}

// Start opens the app and serves on Listener, or on Config.Addr, in the
// background. On error nothing is left open.
func (a *App) Start() error {
	if err := a.Open(); err != nil {
		return err
	}
	ln := a.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", a.Config.Addr); err != nil {
			a.Stop(context.Background())
			return fmt.Errorf("listen on %s (ATOLL_ADDR): %w", a.Config.Addr, err)
		}
	}
	if a.Config.MetricsAddr != "" {
		mln, err := net.Listen("tcp", a.Config.MetricsAddr)
		if err != nil {
			ln.Close()
			a.Stop(context.Background())
			return fmt.Errorf("listen on %s (ATOLL_METRICS_ADDR): %w", a.Config.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.Server.MetricsHandler())
		a.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		a.MetricsAddr = mln.Addr().String()
		go a.metrics.Serve(mln)
	}
	a.Addr = ln.Addr().String()
	a.served = make(chan error, 1)
	go func() { a.served <- a.Server.Serve(ln) }()
	return nil
}

// Run starts the app and blocks until ctx ends (then stops gracefully,
// within Config.ShutdownTimeout) or the server fails.
func (a *App) Run(ctx context.Context) error {
	if err := a.Start(); err != nil {
		return err
	}
	select {
	case err := <-a.served:
		a.served = nil
		a.Stop(context.Background())
		return err
	case <-ctx.Done():
	}
	// Drain first: the listener keeps serving while /readyz says 503
	// and every answer closes its connection, so a balancer sees the
	// server leave before new connections are refused.
	a.Server.BeginDrain()
	if d := a.Config.DrainDelay; d > 0 {
		a.Log.Info().Dur("drain", d).Msg("draining")
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case err := <-a.served:
			t.Stop()
			a.served = nil
			a.Stop(context.Background())
			return err
		}
	}
	a.Log.Info().Dur("deadline", a.Config.ShutdownTimeout).Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	if err := a.Stop(sctx); err != nil {
		return err
	}
	a.Log.Info().Msg("stopped")
	return nil
}

// Stop stops taking connections (when it serves), waits until ctx ends
// for requests in flight, stops the background work and closes the store
// it opened.
func (a *App) Stop(ctx context.Context) error {
	var err error
	if a.served != nil {
		if err = a.Server.Shutdown(ctx); err != nil {
			err = fmt.Errorf("shutdown: %w", err)
		} else if serr := <-a.served; serr != nil {
			err = fmt.Errorf("serve: %w", serr)
		}
	}
	if a.metrics != nil {
		a.metrics.Close()
	}
	a.stop()
	<-a.done
	if cerr := a.close(); cerr != nil && err == nil {
		err = fmt.Errorf("close store: %w", cerr)
	}
	return err
}

// keptKeys reads the key kept beside a SQLite database, making it the
// first time, so island URLs in cached pages and open tabs survive a
// restart: a site on one machine needs no ATOLL_KEYS.
func keptKeys(db string) (keys [][]byte, file string, err error) {
	dir := "data"
	if db != ":memory:" && !strings.HasPrefix(db, "file:") {
		dir = filepath.Dir(db)
	}
	file = filepath.Join(dir, "atoll.key")
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		b = []byte(GenerateKey() + "\n")
		if err = os.MkdirAll(dir, 0o755); err == nil {
			err = os.WriteFile(file, b, 0o600)
		}
	}
	if err != nil {
		return nil, file, fmt.Errorf("keep a key for ATOLL_KEYS: %w", err)
	}
	if keys, err = seal.ParseKeys(strings.TrimSpace(string(b))); err != nil {
		return nil, file, fmt.Errorf("the key kept in %s: %w (delete the file to make a new one, or set ATOLL_KEYS)", file, err)
	}
	return keys, file, nil
}

// purgeHourly deletes expired sessions (and what belongs to them) every
// hour until ctx ends; the store also purges when it opens.
func (a *App) purgeHourly(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := a.Store.PurgeExpired(ctx); err != nil {
				a.Log.Error().Err(err).Msg("purge expired sessions")
			} else if n > 0 {
				a.Log.Info().Int64("sessions", n).Msg("purged expired sessions")
			}
		}
	}
}
