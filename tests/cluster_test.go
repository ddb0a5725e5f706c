//go:build !race

package tests

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/atollhq/atoll/internal/pgtest"
	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/store"
	"github.com/atollhq/atoll/tests/internal/cluster"
)

// The cluster's replicas drain for one second after SIGTERM rather than
// the default five, to keep the test short, and their pages live one
// second in nginx's cache, so that a key can be retired seconds after a
// new one seals instead of a day later (see the rotation below).
var clusterEnv = []string{"ATOLL_DRAIN_DELAY=1s", "ATOLL_PAGE_MAX_AGE=1s", "ATOLL_SHUTDOWN_TIMEOUT=10s"}

// clusterPages are the pages the load visits; each places islands of its
// own or a batch stream.
var clusterPages = []string{"/", "/about", "/products", "/many", "/many-batched"}

// startCluster starts two replicas of the built binary on one fresh
// PostgreSQL database, with ATOLL_KEYS=keys, behind nginx configured by
// internal/nginxconf (atoll nginx). It fails, never skips, without nginx or
// PostgreSQL. On failure the replicas' logs and nginx's error log are
// printed.
func startCluster(t *testing.T, keys string) *cluster.Cluster {
	t.Helper()
	return startClusterOn(t, keys, pgtest.Database(t), clusterEnv)
}

// startClusterOn is startCluster on the database db, with env for the
// replicas.
func startClusterOn(t *testing.T, keys, db string, env []string) *cluster.Cluster {
	t.Helper()
	if _, err := cluster.NginxPath(); err != nil {
		t.Fatalf("the cluster test needs nginx: %v", err)
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "replicas.log")
	logs, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.Start(cluster.Options{
		Server: serverBinary(t), DB: db, Keys: keys,
		Dir: dir, Env: env, Output: logs,
	})
	if err != nil {
		logs.Close()
		t.Fatalf("start the cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop the cluster: %v", err)
		}
		logs.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("replicas' logs (last 8 KiB):\n%s", lastBytes(string(b), 8<<10))
			t.Logf("nginx error.log (last 8 KiB):\n%s", lastBytes(c.Nginx.ErrorLog(), 8<<10))
		}
	})
	return c
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestClusterRollingRestartWithKeyRotation runs the site as a deployment
// past one machine does: two replicas of one build on one PostgreSQL
// database behind nginx (atoll nginx). A session made on one
// replica is seen on the other. Under a steady load through nginx (pages,
// their islands, batch streams read whole, actions), the replicas are
// restarted one at a time, each as soon as the one before answers
// /readyz, three times round, to rotate the sealing key from A to B: not
// one request fails. Then one is killed with SIGKILL and started again:
// no GET fails (a batch stream the dead replica was writing is cut, and
// the islands it had not delivered are fetched one by one, as the client
// does), and the POSTs that fail are counted.
//
// The rotation takes three rounds, not two: a key must open on every
// replica before any replica seals with it, or an island URL sealed by a
// restarted replica reaches one that cannot open it and gets 400. So:
// A → A,B (B opens everywhere) → B,A (B seals, A still opens what caches
// hold) → B (A retired, once no cached page carries an A-sealed URL).
//
// The one-second drain is shorter than nginx's keepalive_timeout (4 s),
// so a replica may still close idle connections nginx holds when it shuts
// down; nginx retries a GET on one, and the test logs how many there were.
func TestClusterRollingRestartWithKeyRotation(t *testing.T) {
	t.Parallel()
	start := time.Now()
	keyA, keyB := seal.GenerateKey(), seal.GenerateKey()
	c := startCluster(t, keyA)
	r1, r2 := c.Replicas[0], c.Replicas[1]
	client := &http.Client{Timeout: 10 * time.Second}

	var ada string // Ada's session cookie
	if !t.Run("a session made on one replica is seen on the other and through nginx", func(t *testing.T) {
		in := send(client, "POST", r1.URL()+"/actions/sign-in", "", url.Values{"name": {"Ada"}})
		cookie := setCookie(in.header)
		ada = cookie
		if in.err != nil || in.status != 200 || cookie == "" {
			t.Fatalf("sign-in on %s: %d %v, cookie %q", r1.Name, in.status, in.err, cookie)
		}
		if add := send(client, "POST", r2.URL()+"/actions/cart/add", cookie, url.Values{"product": {"reef-mug"}}); add.err != nil || add.status != 200 {
			t.Fatalf("add to cart on %s: %d %v %q", r2.Name, add.status, add.err, add.body)
		}
		// Through nginx, four times each, so both replicas answer.
		for _, base := range []string{r2.URL(), r1.URL(), c.URL, c.URL, c.URL, c.URL} {
			checkSession(t, client, base, cookie, "Ada", "1")
		}
	}) {
		return
	}

	// Every island URL with sealed props, and every batch stream URL,
	// from pages sealed with key A.
	old := map[string]bool{}
	partials := map[string]int{} // page → hx-partial messages in its batch stream
	for _, p := range clusterPages {
		page := send(client, "GET", r1.URL()+p, "", nil)
		if page.err != nil || page.status != 200 {
			t.Fatalf("GET %s from %s: %d %v", p, r1.Name, page.status, page.err)
		}
		islands, batch := islandURLs(page.body)
		for _, u := range sealed(append(islands, batch)) {
			old[u] = true
		}
		if batch != "" {
			stream := send(client, "GET", r1.URL()+batch, "", nil)
			partials[p] = strings.Count(stream.body, "</hx-partial>")
			if stream.err != nil || stream.status != 200 || partials[p] == 0 {
				t.Fatalf("batch stream of %s: %d %v, %d islands", p, stream.status, stream.err, partials[p])
			}
		}
	}
	if len(old) < 10 {
		t.Fatalf("only %d sealed URLs on the demo pages, want the ten latency islands of /many and the batch streams", len(old))
	}

	l := startLoad(c.URL, 4, partials)
	t.Cleanup(l.stop)
	restarts := 0
	roll := func(keys, label string) {
		t.Helper()
		for _, r := range c.Replicas {
			began := time.Now()
			if err := r.Restart(keys); err != nil {
				t.Fatalf("restart %s with %s: %v", r.Name, label, err)
			}
			restarts++
			t.Logf("%s restarted with ATOLL_KEYS=%s in %s", r.Name, label, time.Since(began).Round(10*time.Millisecond))
		}
	}
	l.waitVisits(t, 2) // the load is under way before the first restart

	roll(keyA+","+keyB, "A,B")
	t.Run("adding B second changes no page: A still seals", func(t *testing.T) {
		for _, r := range c.Replicas {
			for _, p := range clusterPages {
				islands, batch := islandURLs(send(client, "GET", r.URL()+p, "", nil).body)
				for _, u := range sealed(append(islands, batch)) {
					if !old[u] {
						t.Errorf("%s's %s carries %s, not sealed with A", r.Name, p, u)
					}
				}
			}
		}
	})
	roll(keyB+","+keyA, "B,A")
	t.Run("old URLs open while every replica still has A", func(t *testing.T) {
		for u := range old {
			if a := send(client, "GET", c.URL+u, "", nil); a.err != nil || a.status != 200 || strings.Contains(a.body, "island--error") {
				t.Errorf("%s through nginx: %d %v %.200q", u, a.status, a.err, a.body)
			}
		}
	})
	// Before A goes: nginx's copies of the pages (max-age 1s here, a day
	// by default) must be ones sealed with B, and every worker must have
	// visited pages since, so no A-sealed URL is left in use.
	eventually(t, 15*time.Second, "nginx to serve pages sealed with B", func() bool {
		for _, p := range clusterPages {
			page := send(l.client, "GET", c.URL+p, "", nil)
			islands, batch := islandURLs(page.body)
			if page.status != 200 {
				return false
			}
			for _, u := range sealed(append(islands, batch)) {
				if old[u] {
					return false
				}
			}
		}
		return true
	})
	l.waitVisits(t, 2)
	roll(keyB, "B")

	t.Run("old URLs get 400 and the island error fragment once A is gone; fresh ones open", func(t *testing.T) {
		for u := range old {
			a := send(client, "GET", c.URL+u, "", nil)
			if a.err != nil || a.status != 400 {
				t.Errorf("%s through nginx: %d %v, want 400", u, a.status, a.err)
				continue
			}
			doc := parse(t, a.body)
			frag := findAll(doc, func(n *html.Node) bool { r, _ := attr(n, "role"); return hasClass(n, "island--error") && r == "alert" })
			if len(frag) != 1 || strings.Contains(a.body, "<html") || strings.Contains(a.body, "<body") {
				t.Errorf("%s: the 400 is not the island error fragment: %.300q", u, a.body)
			}
		}
		fresh := 0
		for _, r := range c.Replicas {
			for _, p := range clusterPages {
				page := send(client, "GET", r.URL()+p, "", nil)
				islands, batch := islandURLs(page.body)
				for _, u := range sealed(append(islands, batch)) {
					fresh++
					if old[u] {
						t.Errorf("%s's %s still carries the A-sealed %s", r.Name, p, u)
					}
					if a := send(client, "GET", c.URL+u, "", nil); a.err != nil || a.status != 200 || strings.Contains(a.body, "island--error") {
						t.Errorf("fresh %s through nginx: %d %v %.200q", u, a.status, a.err, a.body)
					}
				}
			}
		}
		if fresh < len(old) {
			t.Errorf("%d fresh sealed URLs, want at least the %d old ones' worth", fresh, len(old))
		}
	})
	t.Run("a session outlives the restart of every replica", func(t *testing.T) {
		for _, base := range []string{r1.URL(), r2.URL(), c.URL} {
			checkSession(t, client, base, ada, "Ada", "1")
		}
	})
	graceful := restarts

	// kill -9 of replica 2 under load. nginx retries GETs on the other
	// replica; a POST whose bytes reached the dead process is not retried
	// (it may have been applied), so it can fail, and is counted.
	l.enter(t, phaseKill)
	// Connections a replica closed or reset under nginx: nginx retried
	// the GETs on them, but a POST on one would have failed.
	closedUnder := 0
	for _, line := range strings.Split(c.Nginx.ErrorLog(), "\n") {
		if strings.Contains(line, "prematurely closed") || strings.Contains(line, "reset by peer") {
			closedUnder++
		}
	}
	if err := r2.Kill(); err != nil {
		t.Fatalf("kill -9 %s: %v", r2.Name, err)
	}
	killed := time.Now()
	// nginx marks the dead replica down for fail_timeout (2 s), then
	// tries it again, is refused and passes the request on: wait until
	// its error log shows two refused connections to it since the kill,
	// the second after fail_timeout (the log names the upstream as
	// http://host:port/path).
	logged := len(c.Nginx.ErrorLog())
	eventually(t, 10*time.Second, "nginx to be refused by the dead replica twice", func() bool {
		refused := 0
		for _, line := range strings.Split(c.Nginx.ErrorLog()[logged:], "\n") {
			if strings.Contains(line, "Connection refused") && strings.Contains(line, r2.Addr+"/") {
				refused++
			}
		}
		return refused >= 2
	})
	if err := r2.Start(keyB); err != nil {
		t.Fatalf("start %s again after kill -9: %v", r2.Name, err)
	}
	restarts++
	t.Logf("%s killed with SIGKILL and back in %s", r2.Name, time.Since(killed).Round(10*time.Millisecond))
	l.waitVisits(t, 2)
	l.stop()

	rolling, kill := l.tally(phaseRolling), l.tally(phaseKill)
	t.Logf("load through nginx, 4 workers, during %d graceful restarts (drain 1s): %s", graceful, rolling)
	t.Logf("load through nginx during kill -9 of %s and its restart: %s", r2.Name, kill)
	t.Logf("nginx error.log: %d connections closed or reset under nginx during the rolling restarts", closedUnder)
	t.Logf("restarts: %d in all; test took %s", restarts, time.Since(start).Round(100*time.Millisecond))
	for _, f := range l.failureLog() {
		t.Log("load:", f)
	}
	if rolling.failed() != 0 || rolling.cuts != 0 {
		t.Errorf("%d requests through nginx failed and %d batch streams were cut during the rolling restarts, want 0", rolling.failed(), rolling.cuts)
	}
	if n := kill.failedGETs(); n != 0 {
		t.Errorf("%d GETs through nginx failed around kill -9, want 0", n)
	}
	if kill.posts.failed != 0 {
		t.Logf("%d of %d POSTs failed around kill -9 (sent to the process as it died; nginx does not retry a POST that reached a replica)", kill.posts.failed, kill.posts.sent)
	}
	if rolling.sent() < 200 || kill.sent() < 20 {
		t.Errorf("the load sent too little to prove anything: %d then %d requests", rolling.sent(), kill.sent())
	}
}

// checkSession asserts that base shows the session's greeting and cart.
func checkSession(t *testing.T, c *http.Client, base, cookie, name, cart string) {
	t.Helper()
	g := send(c, "GET", base+"/_islands/user-greeting?page=%2F", cookie, nil)
	if got := strings.TrimSpace(text(parse(t, g.body))); g.status != 200 || got != "Hello, "+name+"!" {
		t.Fatalf("greeting from %s: %d %v %q, want Hello, %s!", base, g.status, g.err, got, name)
	}
	n := send(c, "GET", base+"/_islands/cart-count?page=%2F", cookie, nil)
	if got := field(t, parse(t, n.body), "cart-count"); n.status != 200 || got != cart {
		t.Fatalf("cart count from %s: %d %v %q, want %s", base, n.status, n.err, got, cart)
	}
}

// eventually polls cond every 50 ms until it holds, failing the test after
// limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for i := 0; i < 10_000 && time.Now().Before(deadline); i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waited %s for %s", limit, what)
}

type answer struct {
	status int
	header http.Header
	body   string
	err    error
	phase  int32 // the load's phase when it was sent
}

// send makes one request with an optional session cookie; a form makes
// it a same-origin form POST. The body is read whole: a stream cut short
// is an error.
func send(c *http.Client, method, u, cookie string, form url.Values) answer {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return answer{err: err}
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if cookie != "" {
		req.Header.Set("Cookie", store.SessionCookie+"="+cookie)
	}
	res, err := c.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: string(b), err: err}
}

var hxGet = regexp.MustCompile(`hx-get="([^"]+)"`)

// islandURLs returns the island URLs a page's placeholders fetch, and
// its batch stream's URL (or "").
func islandURLs(page string) (islands []string, batch string) {
	for _, m := range hxGet.FindAllStringSubmatch(page, -1) {
		u := strings.ReplaceAll(m[1], "&amp;", "&")
		if strings.HasPrefix(u, "/_islands?") {
			batch = u
		} else {
			islands = append(islands, u)
		}
	}
	return islands, batch
}

// sealed keeps the URLs that carry sealed data: props (p=) or a batch
// (b=).
func sealed(urls []string) []string {
	var out []string
	for _, u := range urls {
		if q, err := url.Parse(u); err == nil && (q.Query().Has("p") || q.Query().Has("b")) {
			out = append(out, u)
		}
	}
	return out
}

// The load's phases: graceful restarts, then kill -9.
const (
	phaseRolling = iota
	phaseKill
)

type kind int

const (
	kindPage kind = iota
	kindIsland
	kindBatch
	kindPost
	kinds
)

var kindNames = [kinds]string{"pages", "islands", "batch streams", "POSTs"}

// load is a few workers sending what browsers send through nginx, each
// in cycles: sign in, visit three pages (each with one of its islands and
// its batch stream read whole) adding to the cart after each, check the
// greeting and the cart count, sign out. Bounded by count and time.
type load struct {
	client   *http.Client
	front    string
	partials map[string]int
	phase    atomic.Int32
	quit     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	visits   []atomic.Int64
	counts   [2][kinds][2]atomic.Int64 // phase, kind, sent/failed
	cuts     [2]atomic.Int64           // batch streams cut short, by phase
	inFlight [2]atomic.Int64           // requests under way, by the phase they began in

	mu       sync.Mutex
	failures []string
}

const (
	loadLimit = 50 * time.Second // a worker stops after this, whatever happens
	maxCycles = 5000
)

func startLoad(front string, workers int, partials map[string]int) *load {
	l := &load{
		client:   &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * workers}},
		front:    front,
		partials: partials,
		quit:     make(chan struct{}),
		visits:   make([]atomic.Int64, workers),
	}
	for w := range workers {
		l.wg.Add(1)
		go l.worker(w)
	}
	return l
}

func (l *load) stop() {
	l.stopOnce.Do(func() { close(l.quit) })
	l.wg.Wait()
}

func (l *load) stopped() bool {
	select {
	case <-l.quit:
		return true
	default:
		return false
	}
}

// waitVisits waits until every worker has visited n more pages.
func (l *load) waitVisits(t *testing.T, n int64) {
	t.Helper()
	from := make([]int64, len(l.visits))
	for i := range l.visits {
		from[i] = l.visits[i].Load()
	}
	eventually(t, 20*time.Second, fmt.Sprintf("every load worker to visit %d more pages", n), func() bool {
		for i := range l.visits {
			if l.visits[i].Load() < from[i]+n {
				return false
			}
		}
		return true
	})
}

func (l *load) worker(w int) {
	defer l.wg.Done()
	deadline := time.Now().Add(loadLimit)
	for cycle := 0; cycle < maxCycles && time.Now().Before(deadline) && !l.stopped(); cycle++ {
		name := fmt.Sprintf("w%d-%d", w, cycle)
		in, ok := l.post("/actions/sign-in", "", url.Values{"name": {name}})
		cookie := setCookie(in.header)
		if !ok || cookie == "" {
			l.visit(w, clusterPages[cycle%len(clusterPages)], cycle) // and try again, not at once
			continue
		}
		sure := true // every POST of this session succeeded
		for i := range 3 {
			l.visit(w, clusterPages[(w+3*cycle+i)%len(clusterPages)], cycle+i)
			if _, ok := l.post("/actions/cart/add", cookie, url.Values{"product": {"reef-mug"}}); !ok {
				sure = false
			}
		}
		g := l.get(kindIsland, "/_islands/user-greeting?page=%2F", cookie)
		n := l.get(kindIsland, "/_islands/cart-count?page=%2F", cookie)
		if sure {
			if got := greeting(g.body); g.status == 200 && got != "Hello, "+name+"!" {
				l.fail(g, kindIsland, fmt.Sprintf("%s's greeting is %q", name, got))
			}
			if got := cartCount(n.body); n.status == 200 && got != "3" {
				l.fail(n, kindIsland, fmt.Sprintf("%s's cart shows %q after 3 adds", name, got))
			}
		}
		l.post("/actions/sign-out", cookie, url.Values{})
	}
}

// visit gets a page, one of its islands and its batch stream, if any.
func (l *load) visit(w int, path string, n int) {
	defer l.visits[w].Add(1)
	page := l.get(kindPage, path, "")
	if page.status != 200 {
		return
	}
	islands, batch := islandURLs(page.body)
	if len(islands) > 0 {
		l.get(kindIsland, islands[n%len(islands)], "")
	}
	if batch == "" {
		return
	}
	a := l.get(kindBatch, batch, "")
	switch {
	case a.status == 200 && a.err != nil:
		// Cut short: as the client does (client/atoll.js), fetch each
		// island the stream did not deliver on its own.
		for id, u := range batchedIslands(page.body) {
			at := strings.Index(a.body, `hx-target="#`+id+`"`)
			if at < 0 || !strings.Contains(a.body[at:], "</hx-partial>") {
				l.get(kindIsland, u, "")
			}
		}
	case a.status == 200 && strings.Count(a.body, "</hx-partial>") != l.partials[path]:
		l.fail(a, kindBatch, fmt.Sprintf("%s's batch stream holds %d islands, want %d", path, strings.Count(a.body, "</hx-partial>"), l.partials[path]))
	}
}

// begin counts a request under way in the current phase and returns the
// phase.
func (l *load) begin() int32 {
	for {
		phase := l.phase.Load()
		l.inFlight[phase].Add(1)
		if l.phase.Load() == phase {
			return phase
		}
		l.inFlight[phase].Add(-1) // the phase changed meanwhile: count it in the new one
	}
}

// enter starts a new phase once every request of the one before has
// finished, so that each is counted in the phase it ran in.
func (l *load) enter(t *testing.T, phase int32) {
	t.Helper()
	before := l.phase.Swap(phase)
	eventually(t, 15*time.Second, "the load's requests under way to finish", func() bool { return l.inFlight[before].Load() == 0 })
}

// get sends a GET through nginx and records it: a transport error, a
// status of 400 or more, a body cut short or a wrong one is a failure.
// loadPace is the pause before each request of a cluster test's load: a
// worker sends at most 200 a second, a steady load that leaves the CPUs
// to the replicas' restarts and to the tests that run beside it.
const loadPace = 5 * time.Millisecond

func (l *load) get(k kind, path, cookie string) answer {
	time.Sleep(loadPace)
	phase := l.begin()
	defer l.inFlight[phase].Add(-1)
	a := send(l.client, "GET", l.front+path, cookie, nil)
	a.phase = phase
	l.counts[phase][k][0].Add(1)
	var problem string
	switch {
	case k == kindBatch && a.status == 200 && a.err != nil:
		l.cuts[phase].Add(1) // the caller falls back as the client does
		l.record(phase, "GET "+path+": stream cut short, its islands then fetched one by one: "+a.err.Error())
	case a.err != nil:
		problem = a.err.Error()
	case a.status >= 400:
		problem = fmt.Sprintf("status %d: %.120q", a.status, a.body)
	case k == kindPage && !strings.Contains(a.body, "</html>"):
		problem = "page without </html>"
	case k == kindIsland && (!strings.Contains(a.body, "data-island=") || strings.Contains(a.body, "island--error")):
		problem = fmt.Sprintf("not an island: %.120q", a.body)
	}
	if problem != "" {
		l.counts[phase][k][1].Add(1)
		l.record(phase, "GET "+path+": "+problem)
	}
	return a
}

// post sends an action through nginx and records it.
func (l *load) post(path, cookie string, form url.Values) (answer, bool) {
	time.Sleep(loadPace)
	phase := l.begin()
	defer l.inFlight[phase].Add(-1)
	a := send(l.client, "POST", l.front+path, cookie, form)
	a.phase = phase
	l.counts[phase][kindPost][0].Add(1)
	if a.err != nil || a.status >= 400 {
		l.counts[phase][kindPost][1].Add(1)
		l.record(phase, fmt.Sprintf("POST %s: %d %v %.120q", path, a.status, a.err, a.body))
		return a, false
	}
	return a, true
}

// fail counts a wrong answer to a request already counted as sent.
func (l *load) fail(a answer, k kind, what string) {
	l.counts[a.phase][k][1].Add(1)
	l.record(a.phase, what)
}

func (l *load) record(phase int32, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) < 30 {
		l.failures = append(l.failures, []string{"rolling restart", "kill -9"}[phase]+": "+what)
	}
}

func (l *load) failureLog() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.failures...)
}

// batchedIslands returns the URLs of a page's batched islands by
// placeholder id: what the client fetches one by one when the batch
// stream is cut.
func batchedIslands(page string) map[string]string {
	out := map[string]string{}
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return out
	}
	for _, n := range findAll(doc, func(n *html.Node) bool { _, ok := attr(n, "data-batched"); return ok }) {
		id, _ := attr(n, "id")
		u, _ := attr(n, "hx-get")
		out[id] = u
	}
	return out
}

func greeting(body string) string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(text(doc))
}

func cartCount(body string) string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return ""
	}
	els := findAll(doc, func(n *html.Node) bool { v, _ := attr(n, "data-field"); return v == "cart-count" })
	if len(els) != 1 {
		return ""
	}
	return strings.TrimSpace(text(els[0]))
}

// tally is the load's counts for one phase.
type tally struct {
	byKind [kinds]struct{ sent, failed int64 }
	posts  struct{ sent, failed int64 }
	cuts   int64 // batch streams cut short, their islands then fetched one by one
}

// tally returns one phase's counts so far.
func (l *load) tally(phase int) tally {
	var t tally
	for k := range kinds {
		t.byKind[k].sent = l.counts[phase][k][0].Load()
		t.byKind[k].failed = l.counts[phase][k][1].Load()
	}
	t.posts = t.byKind[kindPost]
	t.cuts = l.cuts[phase].Load()
	return t
}

func (t tally) sent() (n int64) {
	for _, k := range t.byKind {
		n += k.sent
	}
	return n
}

func (t tally) failed() (n int64) {
	for _, k := range t.byKind {
		n += k.failed
	}
	return n
}

func (t tally) failedGETs() int64 { return t.failed() - t.posts.failed }

func (t tally) String() string {
	var parts []string
	for k, c := range t.byKind {
		parts = append(parts, fmt.Sprintf("%d %s (%d failed)", c.sent, kindNames[k], c.failed))
	}
	return fmt.Sprintf("%d requests, %d failed: %s; %d batch streams cut short", t.sent(), t.failed(), strings.Join(parts, ", "), t.cuts)
}
