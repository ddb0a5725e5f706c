//go:build !race

package tests

import (
	"github.com/atollhq/atoll"

	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
)

// browser opens a tab of headless Debian chromium for one test, in a
// browser context of its own, and returns its context and a channel of
// everything the page writes to the console, exceptions and browser log
// entries (CSP violations among them). It fails the test, never skips it,
// when chromium is not installed.
func browser(t *testing.T) (context.Context, <-chan chromedp.ConsoleMessage) {
	t.Helper()
	// A bound on the whole browser session, not a synchronisation: each
	// wait has its own limit. It is generous because the suite shares two
	// CPUs with whatever else the machine runs.
	return browserFor(t, 4*time.Minute)
}

// chromium is one headless chromium for the whole test run, started by
// the first test that needs it and stopped after the last (TestMain).
// Each test gets a tab in a browser context of its own: cookies, cache and
// storage of its own, as a new incognito window. A tab costs milliseconds
// where starting a browser costs seconds of CPU.
var chromium struct {
	once sync.Once
	ctx  context.Context
	err  error
}

func sharedChromium() (context.Context, error) {
	chromium.once.Do(func() {
		path, err := exec.LookPath("chromium")
		if err != nil {
			chromium.err = fmt.Errorf("chromium is not installed, and the browser tests need it: run `apt-get install -y chromium` (.ci/run does this): %w", err)
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox,
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-quic", true),
			// Less CPU for the same pages: Debian's wrapper turns on GPU
			// rasterization, which without a GPU runs in SwiftShader; and
			// every new window (a browser context each test) starts two
			// renderers for the omnibox's WebUI popups, which a headless
			// tab never shows. chromedp's own disabled features are kept.
			// Together about a quarter of the browser tests' CPU.
			chromedp.Flag("disable-gpu-rasterization", true),
			chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,WebUIOmniboxPopup,WebUIOmniboxAimPopup"),
			chromedp.Flag("disable-component-update", true),
			chromedp.WindowSize(1280, 900),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(alloc)
		if err := chromedp.Do(ctx); err != nil {
			cancel()
			cancelAlloc()
			chromium.err = fmt.Errorf("start chromium at %s: %w", path, err)
			return
		}
		chromium.ctx = ctx
		afterTests(func() { cancel(); cancelAlloc() })
	})
	return chromium.ctx, chromium.err
}

// browserFor is browser for a test that drives its tab for up to limit.
func browserFor(t *testing.T, limit time.Duration) (context.Context, <-chan chromedp.ConsoleMessage) {
	t.Helper()
	shared, err := sharedChromium()
	if err != nil {
		t.Fatal(err)
	}
	tab, cancelTab := chromedp.NewContext(shared, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		t.Fatalf("open a tab in a browser context of its own: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tab, limit)
	t.Cleanup(func() { cancelTimeout(); cancelTab() })
	msgs := make(chan chromedp.ConsoleMessage, 256)
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			select {
			case msgs <- m:
			default:
			}
		}
	}()
	return ctx, msgs
}

// expectCleanConsole asks the page to load an image from another origin,
// which the CSP must refuse, and reads the console up to that refusal: every message before it came
// from the page under test and must not be an error, an exception or a
// security warning. The refusal itself proves the check can see them.
func expectCleanConsole(t *testing.T, ctx context.Context, msgs <-chan chromedp.ConsoleMessage) {
	t.Helper()
	const control = "atoll-csp-control"
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](
		`(() => { const i = new Image(); i.src = 'http://127.0.0.2:9/`+control+`.png'; document.body.appendChild(i); })()`))
	if err != nil {
		t.Fatalf("inject the CSP control: %v", err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-msgs:
			if strings.Contains(m.Text, control) && strings.Contains(m.Text, "Content Security Policy") {
				return // the control: everything before it was clean
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning || m.Source == "security" {
				t.Errorf("browser console: %s", m)
			}
		case <-deadline:
			t.Fatalf("the CSP refusal of a foreign image never reached the console: the console check is blind")
		}
	}
}

func TestBrowserIslandsReplaceTheirFallbacks(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "/shop"} {
		t.Run("base="+base, func(t *testing.T) { islandsReplaceTheirFallbacks(t, base) })
	}
}

func islandsReplaceTheirFallbacks(t *testing.T, base string) {
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) { c.BasePath = base }))
	ctx, msgs := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(site.URL+base+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the server-info and greeting islands", `!!document.querySelector('.island[data-island="server-info"]:not([aria-busy]) [data-field="token"]') &&
		!!document.querySelector('.island[data-island="user-greeting"]:not([aria-busy]) [data-field="name"]')`)
	// Everything placed to load on load has arrived; only the ticker, which
	// waits to be scrolled into view, still shows its skeleton.
	left, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('[aria-busy="true"], [hx-trigger="load"]:not(#islands-batch)')].map(e => e.dataset.island || e.id)`))
	if err != nil || len(left) != 1 || left[0] != "ticker" {
		t.Fatalf("placeholders left after the islands arrived: %v (err %v), want only the below-the-fold ticker", left, err)
	}
	token, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-field="token"]`)))
	if err != nil || !strings.HasPrefix(token, "#") {
		t.Fatalf("random token %q (err %v), want #N,NNN", token, err)
	}
	greeting, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.greeting`)))
	if err != nil || strings.TrimSpace(greeting) != "Hello, Guest!" {
		t.Fatalf("greeting %q (err %v), want Hello, Guest!", greeting, err)
	}
	expectCleanConsole(t, ctx, msgs)
}
