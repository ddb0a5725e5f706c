// Command server runs the Atoll site server.
//
//	server [-addr 127.0.0.1:8080]
//	server -genkey      print a fresh key for ATOLL_KEYS
//
// Settings come from ATOLL_* environment variables (see config); -addr
// overrides ATOLL_ADDR. SIGINT or SIGTERM stops the server after the
// requests in flight finish, within ATOLL_SHUTDOWN_TIMEOUT.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"atoll/config"
	"atoll/internal/seal"
	"atoll/internal/server"
	"atoll/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "atoll:", err)
		os.Exit(1)
	}
}

// run reads the configuration, starts the server and blocks until ctx is
// cancelled, then shuts down gracefully.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "", "listen address (overrides ATOLL_ADDR)")
	genkey := flags.Bool("genkey", false, "print a fresh key for ATOLL_KEYS and exit")
	if err := flags.Parse(args); err != nil {
		return err
	}
	// Request ids come from a pool of random bytes filled in batches,
	// rather than a getrandom call per request.
	uuid.EnableRandPool()
	if *genkey {
		_, err := fmt.Fprintln(stdout, seal.GenerateKey())
		return err
	}
	cfg, err := config.FromEnv(lookup)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("-addr: %w", err)
		}
	}

	var out io.Writer = stderr
	if cfg.Dev {
		out = zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly, NoColor: !isTerminal(stderr)}
	} else {
		// Log lines reach stderr in batches, every 100 ms or at once for
		// warnings and errors, rather than one write per request; the rest
		// is written when run returns.
		buf := server.NewLogBuffer(stderr, 100*time.Millisecond)
		defer buf.Close()
		out = buf
	}
	log := zerolog.New(out).Level(cfg.Level()).With().Timestamp().Logger()
	if cfg.Dev {
		log.Warn().Msg("dev mode: templates are read from disk on every request and pages are not cached")
	}

	if cfg.DB == config.DefaultDB {
		if err := os.MkdirAll(filepath.Dir(cfg.DB), 0o755); err != nil {
			return fmt.Errorf("ATOLL_DB: %w", err)
		}
	}
	st, err := store.OpenSQLite(cfg.DB, time.Now)
	if err != nil {
		return fmt.Errorf("ATOLL_DB=%s: %w", cfg.DB, err)
	}
	defer st.Close()

	srv, err := server.New(server.Options{Config: cfg, Log: log, Store: st})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (ATOLL_ADDR): %w", cfg.Addr, err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	go purgeHourly(ctx, st, log)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info().Dur("deadline", cfg.ShutdownTimeout).Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info().Msg("stopped")
	return nil
}

// isTerminal reports whether w is a terminal, where colours help.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// purgeHourly deletes expired sessions and their carts every hour until
// ctx ends; the store also purges when it opens.
func purgeHourly(ctx context.Context, st *store.SQLite, log zerolog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := st.PurgeExpired(ctx); err != nil {
				log.Error().Err(err).Msg("purge expired sessions")
			} else if n > 0 {
				log.Info().Int64("sessions", n).Msg("purged expired sessions")
			}
		}
	}
}
