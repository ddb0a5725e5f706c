// Command mount is an existing Fiber app, with routes of its own, that
// serves Atoll's demo shop under /shop with server.Server.Mount.
//
//	cd examples/mount && go run .        # then open http://127.0.0.1:8080/shop/
//
// Settings are Atoll's ATOLL_* variables; ATOLL_BASE_PATH defaults to
// /shop here. Without ATOLL_KEYS a throwaway key seals island props, so
// island URLs in cached pages stop working at restart: set ATOLL_KEYS
// (`atoll genkey` makes one) outside a trial run.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := zerolog.New(os.Stderr).With().Timestamp().Logger()
	if err := run(ctx, log); err != nil {
		fmt.Fprintln(os.Stderr, "mount:", err)
		os.Exit(1)
	}
}

// run reads the settings, listens on ATOLL_ADDR and serves until ctx ends.
func run(ctx context.Context, log zerolog.Logger) error {
	cfg, err := loadConfig(os.LookupEnv, log)
	if err != nil {
		return err
	}
	app, err := newApp(cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		app.Close(context.Background())
		return fmt.Errorf("listen on %s (ATOLL_ADDR): %w", cfg.Addr, err)
	}
	log.Info().Str("addr", ln.Addr().String()).Str("shop", cfg.BasePath+"/").Msg("listening")
	return app.Serve(ctx, ln, cfg.ShutdownTimeout)
}

// loadConfig is Atoll's configuration from the environment, with /shop
// as the base path unless ATOLL_BASE_PATH names another, and a throwaway
// key when ATOLL_KEYS is not set.
func loadConfig(lookup func(string) (string, bool), log zerolog.Logger) (config.Config, error) {
	cfg, err := config.FromEnv(func(name string) (string, bool) {
		v, ok := lookup(name)
		switch {
		case name == "ATOLL_BASE_PATH" && v == "":
			return "/shop", true
		case name == "ATOLL_KEYS" && v == "":
			log.Warn().Msg("ATOLL_KEYS is not set: a throwaway key seals island props")
			return newKey(), true
		}
		return v, ok
	})
	return cfg, err
}

// newKey returns a fresh 32-byte key in the form ATOLL_KEYS takes.
func newKey() string {
	k := make([]byte, 32)
	rand.Read(k) // never fails on supported platforms
	return base64.StdEncoding.EncodeToString(k)
}

// App is the parent Fiber app with the Atoll site mounted in it.
type App struct {
	Fiber *fiber.App
	atoll *server.App
}

// newApp builds the parent app: its own routes, then the demo shop under
// cfg.BasePath. The shop's store is open when it returns; Serve (or
// Close, when it never serves) closes it.
func newApp(cfg config.Config, log zerolog.Logger) (*App, error) {
	parent := fiber.New(fiber.Config{DisableStartupMessage: true})
	parent.Use(helmet.New())
	parent.Get("/", func(c *fiber.Ctx) error {
		return c.Type("html").SendString(`<!doctype html><title>Parent</title><h1>The parent app</h1><p><a href="` + cfg.BasePath + `/">Visit the shop</a></p>`)
	})
	parent.Get("/api/hello", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"hello": "world"})
	})

	shop := &server.App{Config: cfg, Log: log, Site: atoll.Demo()}
	if err := shop.Open(); err != nil {
		return nil, err
	}
	if err := shop.Server.Mount(parent); err != nil {
		shop.Stop(context.Background())
		return nil, err
	}
	return &App{Fiber: parent, atoll: shop}, nil
}

// Serve answers on ln until ctx ends, then stops taking connections,
// lets requests in flight finish within timeout and closes the shop.
func (a *App) Serve(ctx context.Context, ln net.Listener, timeout time.Duration) error {
	served := make(chan error, 1)
	go func() { served <- a.Fiber.Listener(ln) }()
	var err error
	select {
	case err = <-served:
		served = nil
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if served != nil {
		if serr := a.Fiber.ShutdownWithContext(sctx); serr != nil {
			err = fmt.Errorf("shutdown: %w", serr)
		} else {
			err = <-served
		}
	}
	return errors.Join(err, a.Close(sctx))
}

// Close stops the shop's background work and closes its store.
func (a *App) Close(ctx context.Context) error { return a.atoll.Stop(ctx) }
