package server

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

	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/internal/seal"
)

// Main is a site's whole main function: it reads the ATOLL_* settings
// and the flags, serves site until SIGINT or SIGTERM, then stops
// gracefully. It exits with status 1, the error on stderr, when the site
// cannot start.
//
//	func main() { server.Main(mysite.Site()) }
//
// Flags: -addr overrides ATOLL_ADDR; -genkey prints a fresh key for
// ATOLL_KEYS and exits.
func Main(site Site) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Command(ctx, site, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "atoll:", err)
		os.Exit(1)
	}
}

// GenerateKey returns a fresh random key, base64-encoded, for ATOLL_KEYS.
func GenerateKey() string { return seal.GenerateKey() }

// Command is Main without the process: the arguments after the program
// name, the environment, and where output goes are given, and it returns
// when ctx ends (after a graceful stop) or the site fails.
func Command(ctx context.Context, site Site, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
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
		_, err := fmt.Fprintln(stdout, GenerateKey())
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
		// is written when Command returns.
		buf := NewLogBuffer(stderr, 100*time.Millisecond)
		defer buf.Close()
		out = buf
	}
	log := zerolog.New(out).Level(cfg.Level()).With().Timestamp().Logger()
	if cfg.Dev {
		log.Info().Msg("dev mode: templates are read from disk on every request and pages are not cached")
	}
	app := &App{Config: cfg, Log: log, Site: site}
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
