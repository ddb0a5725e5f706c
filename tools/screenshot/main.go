// Command screenshot starts the demo site on a free loopback port, opens
// it in headless chromium, waits for the islands to arrive and writes a
// full-page PNG: `make screenshot` refreshes docs/screenshot.png with it.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"atoll/config"
	"atoll/internal/seal"
	"atoll/internal/server"
	"atoll/internal/store"
)

func main() {
	out := flag.String("o", "docs/screenshot.png", "PNG file to write")
	width := flag.Int("width", 1200, "viewport width in CSS pixels")
	flag.Parse()
	if err := run(*out, *width); err != nil {
		fmt.Fprintln(os.Stderr, "screenshot:", err)
		os.Exit(1)
	}
}

func run(out string, width int) error {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		return fmt.Errorf("chromium is not installed (apt-get install -y chromium): %w", err)
	}
	cfg := config.Default()
	cfg.Keys, _ = seal.ParseKeys(seal.GenerateKey())
	dir, err := os.MkdirTemp("", "atoll-screenshot-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := store.OpenSQLite(filepath.Join(dir, "atoll.db"), time.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := server.New(server.Options{Config: cfg, Log: zerolog.Nop(), Store: st})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("hide-scrollbars", true), chromedp.WindowSize(width, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	err = chromedp.Do(ctx,
		chromedp.Navigate("http://"+ln.Addr().String()+"/"),
		chromedp.WaitVisible(chromedp.CSS(`.island[data-island="server-info"]:not([aria-busy]) [data-field="token"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.island[data-island="user-greeting"]:not([aria-busy])`)),
		chromedp.ScrollIntoView(chromedp.CSS(`.island[data-island="ticker"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.island[data-island="ticker"]:not([aria-busy]) .price`)),
	)
	if err != nil {
		return fmt.Errorf("load the page: %w", err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	return os.WriteFile(out, png, 0o644)
}
