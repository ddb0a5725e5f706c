// Command screenshot starts the demo site on a free loopback port, opens
// it in headless chromium and photographs it once every island has
// arrived (lazy ones scrolled into view first): the home page to
// docs/screenshot.png (the README shows it), and with -dir every page in
// three versions, light and dark at 1280 px and light at 390 px, as
// docs/screenshots/{page}-{light,dark,390}.png. `make screenshot` does
// both.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/tests/internal/localsite"
)

func main() {
	out := flag.String("o", "docs/screenshot.png", "PNG of the home page, 1280 px wide, light")
	dir := flag.String("dir", "", "when set, write every page light, dark and 390 px wide into this directory")
	flag.Parse()
	if err := run(*out, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "screenshot:", err)
		os.Exit(1)
	}
}

// version is one way of looking at a page.
type version struct {
	name   string
	width  int64
	mobile bool
	scheme string
}

var versions = []version{
	{"light", 1280, false, "light"},
	{"dark", 1280, false, "dark"},
	{"390", 390, true, "light"},
}

func run(out, dir string) error {
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
		chromedp.Flag("disable-gpu", true), chromedp.Flag("hide-scrollbars", true), chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(browser); err != nil {
		return fmt.Errorf("start chromium: %w", err)
	}

	if err := shoot(browser, site.URL+"/", versions[0], out); err != nil {
		return err
	}
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, route := range site.Routes() {
		name := strings.Trim(strings.ReplaceAll(route, "/", "-"), "-")
		if name == "" {
			name = "home"
		}
		for _, v := range versions {
			if err := shoot(browser, site.URL+route, v, filepath.Join(dir, name+"-"+v.name+".png")); err != nil {
				return err
			}
		}
	}
	return nil
}

// shoot photographs url in a fresh tab seen as v, once no placeholder is
// busy, and writes the PNG to out.
func shoot(browser context.Context, url string, v version, out string) error {
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(tab, 60*time.Second)
	defer cancelTimeout()
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: v.width, Height: 900, DeviceScaleFactor: 1, Mobile: v.mobile}); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v.scheme}}}); err != nil {
		return err
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return err
	}
	// Scroll to the end and back so islands that load when visible do.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.scrollTo(0, document.body.scrollHeight), true`)); err != nil {
		return err
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('[aria-busy="true"]').length === 0`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		return fmt.Errorf("%s (%s): islands never arrived: %w", url, v.name, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.scrollTo(0, 0), true`)); err != nil {
		return err
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("%s (%s): %w", url, v.name, err)
	}
	fmt.Println("screenshot:", out)
	return os.WriteFile(out, png, 0o644)
}
