// Command server runs the Atoll demo site.
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
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/server"
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

	app := &server.App{Config: cfg, Log: log, Site: atoll.Demo()}
	return app.Run(ctx)
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
