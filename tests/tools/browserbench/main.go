// Command browserbench loads the site's pages in headless Debian Chromium,
// each N times with a fresh cache, at one or more emulated round-trip times,
// and prints per page and RTT the median and p90 of DOMContentLoaded and of
// "every island filled", with the island requests the browser made and the
// island renders the server did per view. `make browserbench` runs it.
//
// It starts the real site in this process on a loopback port unless -url
// names one that already runs. The timings follow the ones the Astro
// anchor (the comparison `make browserbench` runs when it is present)
// takes, so its figures and these can be read side by side:
//
//   - the clock is the page's own: performance.timeOrigin is navigation start;
//     dcl is domContentLoadedEventStart of the navigation entry;
//   - islands is performance.now() when the predicate first held, checked by a
//     MutationObserver installed before any page script (and when parsing
//     ends and at DOMContentLoaded): no element matches -pending;
//   - the RTT is Network.emulateNetworkConditions with latency = RTT ms and no
//     throughput limit, not sent at all for 0;
//   - one discarded warm-up load per page and RTT, then -runs loads; the page
//     is fully loaded (load event) before the islands are awaited, and 250 ms
//     pass after they are filled before anything is counted.
//
// The cache is made cold the anchor's way by default: one tab, and
// Network.clearBrowserCache before each load (cookies and open connections
// stay, as they do for Astro in the anchor). -fresh context opens every load
// in a new browser context instead (no HTTP cache, cookies or connections), a
// stricter first visit, but Chromium then also starts a renderer for every
// load, which adds some 80 ms of browser work to DOMContentLoaded on a
// 2-core machine and makes the figures no longer comparable with the anchor's.
//
// Island requests are the requests of the tab whose path starts with
// {base}/_islands, from CDP Network.requestWillBeSent. Server renders are the
// change of the sum of atoll_island_render_duration_seconds_count on
// /metrics across one load: the server observes that histogram once per
// island render, batched or single, whatever the outcome, so it counts
// renders and not requests, and it works for a server started elsewhere too
// (nothing else may talk to that server meanwhile). When the site runs in
// this process, its request log is counted as well ("batch island" lines and
// "request" lines that name an island) and a disagreement is reported.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/tests/internal/localsite"
)

// defaultPending is what an unfilled island looks like: a placeholder still
// busy, unless it waits to be scrolled into view (the home page's ticker),
// which no load without scrolling fills. On pages without such islands it
// is the anchor's predicate, [aria-busy="true"].
const defaultPending = `[aria-busy="true"]:not([hx-trigger*="revealed"]):not([hx-trigger*="intersect"])`

type options struct {
	runs     int
	rtts     []int
	pages    []string
	base     string
	metrics  string
	fresh    string
	pending  string
	timeout  time.Duration
	chromium string
	nojs     bool
	// interleave takes one load of each page in turn, so that a machine
	// whose load changes during the run weighs on every page alike.
	interleave bool
}

func main() {
	var o options
	runs := flag.Int("runs", 15, "measured loads per page and RTT (after one discarded warm-up load)")
	rtts := flag.String("rtt", "0,40", "emulated round-trip times in ms, comma-separated")
	pages := flag.String("pages", "/compare,/many-batched,/many,/", "paths to load, comma-separated")
	flag.StringVar(&o.base, "url", "", "measure the server at this loopback base URL instead of starting one (e.g. http://127.0.0.1:8080)")
	flag.StringVar(&o.metrics, "metrics", "", "with -url: the server's metrics listener (ATOLL_METRICS_ADDR), such as http://127.0.0.1:9090")
	flag.StringVar(&o.fresh, "fresh", "clear", `how each load gets a cold cache: "clear" (one tab, Network.clearBrowserCache, as the anchor does) or "context" (a new browser context per load)`)
	flag.StringVar(&o.pending, "pending", defaultPending, "CSS selector of an island not filled yet")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Second, "limit for one load, islands included")
	flag.StringVar(&o.chromium, "chromium", "/usr/bin/chromium", "the browser")
	flag.BoolVar(&o.interleave, "interleave", false, "take one load of each page in turn instead of all loads of one page, then the next (fairer ratios on a busy machine)")
	flag.BoolVar(&o.nojs, "nojs", false, "load with JavaScript disabled (Emulation.setScriptExecutionDisabled): islands counts what the HTML carries")
	flag.Parse()

	o.runs = min(max(*runs, 1), 1000)
	for f := range strings.SplitSeq(*rtts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 5000 {
			fail(fmt.Errorf("-rtt: %q is not a round-trip time in ms", f))
		}
		o.rtts = append(o.rtts, n)
	}
	for p := range strings.SplitSeq(*pages, ",") {
		if p = strings.TrimSpace(p); p != "" {
			if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "http://") {
				fail(fmt.Errorf("-pages: %q is neither a path nor an http:// URL on a loopback address", p))
			}
			o.pages = append(o.pages, p)
		}
	}
	if o.fresh != "context" && o.fresh != "clear" {
		fail(fmt.Errorf(`-fresh: %q, want "context" or "clear"`, o.fresh))
	}
	if err := run(o); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "browserbench:", err)
	os.Exit(1)
}

func run(o options) error {
	if _, err := exec.LookPath(o.chromium); err != nil {
		return fmt.Errorf("chromium is not installed (apt-get install -y chromium): %w", err)
	}
	var logCount *renderLog
	if o.base == "" {
		logCount = &renderLog{}
		site, err := localsite.Start(zerolog.New(logCount))
		if err != nil {
			return fmt.Errorf("start the site: %w", err)
		}
		defer site.Close()
		o.base, o.metrics = site.URL, site.MetricsURL
	}
	if o.metrics == "" {
		return fmt.Errorf("-url needs -metrics: renders are read from the server's metrics listener")
	}
	o.base = strings.TrimRight(o.base, "/")
	u, err := url.Parse(o.base)
	if err != nil || u.Scheme != "http" || !loopback(u.Hostname()) {
		return fmt.Errorf("-url %q: want http:// on a loopback address", o.base)
	}
	islandPrefix := u.Path + "/_islands"

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(o.chromium),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 800),
	)...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		return fmt.Errorf("start %s: %w", o.chromium, err)
	}
	version := ""
	if v, err := chromedp.Run(browser, chromedp.Evaluate[string](`navigator.userAgent`)); err == nil {
		version = v
	}
	fmt.Printf("browserbench: %s, %d loads per page and RTT (+1 warm-up), fresh cache: %s, server %s\n",
		version, o.runs, o.fresh, o.base)
	fmt.Printf("filled = no element matches %s; renders from /metrics\n", o.pending)
	if o.nojs {
		fmt.Printf("JavaScript disabled: islands = DOMContentLoaded when the HTML carries every island, else blank; islands on page = placeholders still pending after load\n")
	}
	fmt.Println()

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "page\trtt ms\tdcl med\tdcl p90\tislands med\tislands p90\tisland req/view\trenders/view\tislands on page\trequests/view\t")
	var notes []string
	for _, rtt := range o.rtts {
		meters := make([]*meter, len(o.pages))
		for i, p := range o.pages {
			target := o.base + p
			if strings.HasPrefix(p, "http://") {
				// Another server (nginx in front of this one, Astro's
				// reference app) measured in the same run.
				pu, err := url.Parse(p)
				if err != nil || !loopback(pu.Hostname()) {
					return fmt.Errorf("-pages: %q is not on a loopback address", p)
				}
				target = p
			}
			meters[i] = &meter{o: o, browser: browser, url: target, islandPrefix: islandPrefix, rtt: rtt, log: logCount}
		}
		results := make([]result, len(o.pages))
		var err error
		if o.interleave {
			results, err = interleaved(meters, o.runs)
		} else {
			for i, m := range meters {
				if results[i], err = m.measure(); err != nil {
					err = fmt.Errorf("%s: %w", o.pages[i], err)
					break
				}
			}
		}
		if err != nil {
			tw.Flush()
			return fmt.Errorf("at %d ms: %w", rtt, err)
		}
		for i, p := range o.pages {
			r := results[i]
			f := func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p, rtt,
				f(quantile(r.col(func(s sample) float64 { return s.dcl }), 0.5)),
				f(quantile(r.col(func(s sample) float64 { return s.dcl }), 0.9)),
				f(quantile(r.col(func(s sample) float64 { return s.islands }), 0.5)),
				f(quantile(r.col(func(s sample) float64 { return s.islands }), 0.9)),
				counts(r.col(func(s sample) float64 { return float64(s.islandRequests) })),
				counts(r.col(func(s sample) float64 { return float64(s.renders) })),
				counts(r.col(func(s sample) float64 { return float64(s.islandsOnPage) })),
				counts(r.col(func(s sample) float64 { return float64(s.requests) })))
			notes = append(notes, r.notes(p, rtt)...)
		}
	}
	tw.Flush()
	if len(notes) > 0 {
		fmt.Println()
		for _, n := range notes {
			fmt.Println(n)
		}
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// probe runs in every document before its scripts: the predicate of
// time-to-island.mjs with --filled body --count 1 --pending SEL, checked
// only once the document is parsed, plus the number of pending islands at
// DOMContentLoaded.
const probe = `(() => {
  const pending = %s;
  const state = { islands: null, checks: 0, atDCL: -1 };
  Object.defineProperty(window, '__tti', { value: state });
  // Not while the parser still runs: between <body> and the first placeholder
  // nothing is pending yet. No island can fill before the page is parsed
  // (its scripts are deferred), so this changes nothing else.
  const holds = () => document.readyState !== 'loading' && document.body !== null && !document.querySelector(pending);
  const check = () => {
    if (state.islands !== null) return;
    state.checks++;
    if (holds()) { state.islands = performance.now(); mo.disconnect(); }
  };
  const mo = new MutationObserver(check);
  mo.observe(document, { childList: true, subtree: true, characterData: true });
  // Parsing ends (readyState turns "interactive") without a mutation: a
  // page whose islands came in its HTML holds from that moment, before its
  // deferred scripts run and DOMContentLoaded fires.
  document.addEventListener('readystatechange', check);
  document.addEventListener('DOMContentLoaded', () => {
    state.atDCL = document.querySelectorAll(pending).length;
    check();
  });
})()`

type sample struct {
	dcl, islands   float64
	islandsOnPage  int
	islandRequests int
	requests       int
	renders        int // from /metrics
	logRenders     int // from the request log, -1 when not known
	islandKinds    []string
	failed         []string
}

type result struct{ samples []sample }

func (r result) col(f func(sample) float64) []float64 {
	out := make([]float64, len(r.samples))
	for i, s := range r.samples {
		out[i] = f(s)
	}
	return out
}

// notes are what a reader should know beyond the table: how the island
// requests were made, and any disagreement between the two render counts.
func (r result) notes(p string, rtt int) []string {
	var out []string
	kinds := map[string]int{}
	failed, mismatch := map[string]int{}, 0
	for _, s := range r.samples {
		for _, f := range s.failed {
			failed[f]++
		}
		for _, k := range s.islandKinds {
			kinds[k]++
		}
		if s.logRenders >= 0 && s.logRenders != s.renders {
			mismatch++
		}
	}
	var ks []string
	for k, n := range kinds {
		ks = append(ks, fmt.Sprintf("%s×%d", k, n))
	}
	slices.Sort(ks)
	out = append(out, fmt.Sprintf("%s rtt=%d: island requests by type over %d loads: %s", p, rtt, len(r.samples), strings.Join(ks, " ")))
	if len(failed) > 0 {
		var fs []string
		for f, n := range failed {
			fs = append(fs, fmt.Sprintf("%s ×%d", f, n))
		}
		slices.Sort(fs)
		out = append(out, fmt.Sprintf("%s rtt=%d: failed or canceled requests (the page stays open 250 ms after its islands, then closes): %s", p, rtt, strings.Join(fs, ", ")))
	}
	if mismatch > 0 {
		out = append(out, fmt.Sprintf("%s rtt=%d: in %d loads the request log counted other renders than /metrics", p, rtt, mismatch))
	}
	return out
}

type meter struct {
	o            options
	browser      context.Context
	url          string
	islandPrefix string
	rtt          int
	log          *renderLog
	tab          context.Context // -fresh clear: the one tab
	cancelTab    context.CancelFunc
	ev           *events
}

// interleaved warms every meter up, then takes runs rounds of one load
// of each, in page order.
func interleaved(meters []*meter, runs int) ([]result, error) {
	defer func() {
		for _, m := range meters {
			if m.cancelTab != nil {
				m.cancelTab()
			}
		}
	}()
	out := make([]result, len(meters))
	for _, m := range meters {
		if _, err := m.load(); err != nil {
			return nil, fmt.Errorf("%s: %w", m.url, err)
		}
	}
	for range runs {
		for i, m := range meters {
			s, err := m.load()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.url, err)
			}
			out[i].samples = append(out[i].samples, s)
		}
	}
	return out, nil
}

func (m *meter) measure() (result, error) {
	defer func() {
		if m.cancelTab != nil {
			m.cancelTab()
		}
	}()
	var r result
	if _, err := m.load(); err != nil { // warm-up, discarded
		return r, err
	}
	for range m.o.runs {
		s, err := m.load()
		if err != nil {
			return r, err
		}
		r.samples = append(r.samples, s)
	}
	return r, nil
}

// events counts the network events of one tab for the current load.
type events struct {
	prefix   string
	mu       sync.Mutex
	requests int
	islands  []string
	urls     map[network.RequestID]string
	failed   []string
}

func (e *events) reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests, e.islands, e.failed, e.urls = 0, nil, nil, map[network.RequestID]string{}
}

func (e *events) on(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u, err := url.Parse(ev.Request.URL)
		e.mu.Lock()
		e.requests++
		if e.urls != nil && err == nil {
			e.urls[ev.RequestID] = u.Path
		}
		if err == nil && strings.HasPrefix(u.Path, e.prefix) {
			e.islands = append(e.islands, string(ev.Type))
		}
		e.mu.Unlock()
	case *network.EventLoadingFailed:
		what := ev.ErrorText
		if ev.Canceled {
			what = "canceled"
		}
		e.mu.Lock()
		e.failed = append(e.failed, e.urls[ev.RequestID]+" "+what)
		e.mu.Unlock()
	}
}

// setup prepares a tab: the probe, network events and the RTT.
func (m *meter) setup(tab context.Context) (*events, error) {
	ev := &events{prefix: m.islandPrefix}
	if err := chromedp.Listen(tab, ev.on); err != nil {
		return nil, err
	}
	pending, _ := json.Marshal(m.o.pending)
	err := chromedp.Do(tab, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: fmt.Sprintf(probe, pending)}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if m.o.nojs {
			if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
				return err
			}
		}
		if m.rtt == 0 {
			return nil
		}
		// The command time-to-island.mjs sends; cdproto no longer lists it, but Chromium still takes it.
		err := t.Call(ctx, "Network.emulateNetworkConditions", map[string]any{
			"offline": false, "latency": m.rtt, "downloadThroughput": -1, "uploadThroughput": -1}, nil)
		if err != nil {
			_, err = chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
				MatchedNetworkConditions: []*network.Conditions{{Latency: float64(m.rtt), DownloadThroughput: -1, UploadThroughput: -1}}})
		}
		return err
	}))
	return ev, err
}

func (m *meter) load() (sample, error) {
	s := sample{logRenders: -1}
	var tab context.Context
	if m.o.fresh == "context" {
		t, cancel := chromedp.NewContext(m.browser, chromedp.WithNewBrowserContext())
		defer cancel()
		ev, err := m.setup(t)
		if err != nil {
			return s, err
		}
		tab, m.ev = t, ev
	} else {
		if m.tab == nil {
			m.tab, m.cancelTab = chromedp.NewContext(m.browser)
			ev, err := m.setup(m.tab)
			if err != nil {
				return s, err
			}
			m.ev = ev
		}
		tab = m.tab
		if _, err := chromedp.Call(tab, network.ClearBrowserCache, cdp.Empty{}); err != nil {
			return s, err
		}
	}
	tctx, cancel := context.WithTimeout(tab, m.o.timeout)
	defer cancel()

	before, err := m.renders()
	if err != nil {
		return s, err
	}
	var logBefore int64
	if m.log != nil {
		logBefore = m.log.n.Load()
	}
	m.ev.reset()
	if err := chromedp.Do(tctx, chromedp.Navigate(m.url)); err != nil {
		return s, fmt.Errorf("load %s: %w", m.url, err)
	}
	if m.o.nojs {
		return m.loadWithoutJS(tctx, s, before)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`window.__tti && window.__tti.islands !== null`,
		chromedp.WithPollingInterval(5*time.Millisecond), chromedp.WithPollingTimeout(0))); err != nil {
		left, _ := chromedp.Run(tab, chromedp.Evaluate[[]string](
			fmt.Sprintf(`[...document.querySelectorAll(%q)].map(e => e.id || e.tagName)`, m.o.pending)))
		return s, fmt.Errorf("islands on %s never filled (still pending: %v): %w", m.url, left, err)
	}
	if err := chromedp.Do(tctx, chromedp.Sleep(250*time.Millisecond)); err != nil {
		return s, err
	}
	type timing struct {
		DCL     float64 `json:"dcl"`
		Islands float64 `json:"islands"`
		AtDCL   int     `json:"atDCL"`
	}
	t, err := chromedp.Run(tctx, chromedp.Evaluate[timing](`(() => {
  const n = performance.getEntriesByType('navigation')[0];
  return { dcl: n.domContentLoadedEventStart, islands: window.__tti.islands, atDCL: window.__tti.atDCL };
})()`))
	if err != nil {
		return s, err
	}
	after, err := m.renders()
	if err != nil {
		return s, err
	}
	s.dcl, s.islands, s.islandsOnPage, s.renders = t.DCL, t.Islands, t.AtDCL, after-before
	if m.log != nil {
		s.logRenders = int(m.log.n.Load() - logBefore)
	}
	m.ev.mu.Lock()
	s.requests, s.islandRequests, s.islandKinds, s.failed = m.ev.requests, len(m.ev.islands), m.ev.islands, m.ev.failed
	m.ev.mu.Unlock()
	return s, nil
}

// loadWithoutJS finishes a load with scripts disabled: nothing runs in
// the page, so the probe does not either. DOMContentLoaded comes from the
// page's navigation timing, read by DevTools; what is pending is counted
// with DOM queries after the load event.
func (m *meter) loadWithoutJS(ctx context.Context, s sample, before int) (sample, error) {
	if err := chromedp.Do(ctx, chromedp.Sleep(250*time.Millisecond)); err != nil {
		return s, err
	}
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(m.o.pending), chromedp.AtLeast(0)))
	if err != nil {
		return s, err
	}
	dcl, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.getEntriesByType('navigation')[0].domContentLoadedEventStart`))
	if err != nil {
		return s, fmt.Errorf("read DOMContentLoaded with scripts off: %w", err)
	}
	after, err := m.renders()
	if err != nil {
		return s, err
	}
	s.dcl, s.islandsOnPage, s.renders = dcl, len(nodes), after-before
	s.islands = math.NaN()
	if len(nodes) == 0 {
		s.islands = dcl
	}
	m.ev.mu.Lock()
	s.requests, s.islandRequests, s.islandKinds, s.failed = m.ev.requests, len(m.ev.islands), m.ev.islands, m.ev.failed
	m.ev.mu.Unlock()
	return s, nil
}

// renders reads the number of island renders the server has observed.
func (m *meter) renders() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(m.o.metrics, "/")+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("read /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("read /metrics: %s", resp.Status)
	}
	total := 0.0
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "atoll_island_render_duration_seconds_count") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("read /metrics: %q", line)
		}
		total += v
	}
	return int(math.Round(total)), sc.Err()
}

// renderLog counts island renders in the server's JSON request log: one
// "batch island" line per island of a batch, one "request" line naming an
// island per single island request. Canceled batch renders are logged too
// and counted, as /metrics counts them.
type renderLog struct{ n atomic.Int64 }

func (l *renderLog) Write(p []byte) (int, error) {
	var line struct {
		Message string `json:"message"`
		Island  string `json:"island"`
		Level   string `json:"level"`
	}
	if json.Unmarshal(p, &line) == nil && line.Island != "" &&
		(line.Message == "batch island" || line.Message == "request") {
		l.n.Add(1)
	}
	if line.Level == "error" || line.Level == "fatal" {
		os.Stderr.Write(p)
	}
	return len(p), nil
}

// quantile interpolates linearly between the closest ranks, as
// time-to-island.mjs does.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := float64(len(s)-1) * q
	lo, hi := int(math.Floor(pos)), int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// counts shows the median of whole numbers, with the range when loads differ.
func counts(xs []float64) string {
	med := strconv.FormatFloat(quantile(xs, 0.5), 'f', -1, 64)
	lo, hi := slices.Min(xs), slices.Max(xs)
	if lo == hi {
		return med
	}
	return fmt.Sprintf("%s (%g-%g)", med, lo, hi)
}
