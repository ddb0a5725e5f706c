// Command screenshot starts the demo site on a free loopback port, opens
// it in headless chromium, waits for the islands to arrive and writes a
// full-page PNG: `make screenshot` refreshes docs/screenshot.png with it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/internal/localsite"
)

func main() {
	out := flag.String("o", "docs/screenshot.png", "PNG file to write")
	width := flag.Int("width", 1200, "viewport width in CSS pixels")
	path := flag.String("path", "/", "the page to photograph")
	flag.Parse()
	if err := run(*out, *width, *path); err != nil {
		fmt.Fprintln(os.Stderr, "screenshot:", err)
		os.Exit(1)
	}
}

func run(out string, width int, path string) error {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		return fmt.Errorf("chromium is not installed (apt-get install -y chromium): %w", err)
	}
	site, err := localsite.Start(zerolog.Nop())
	if err != nil {
		return err
	}
	defer site.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("hide-scrollbars", true), chromedp.WindowSize(width, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	if path != "/" {
		return capture(ctx, site.URL+path, out)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(site.URL+"/"),
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

// capture photographs another page once no placeholder is left busy.
func capture(ctx context.Context, url, out string) error {
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return err
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('[aria-busy="true"]').length === 0`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		return fmt.Errorf("islands on %s never arrived: %w", url, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	return os.WriteFile(out, png, 0o644)
}
