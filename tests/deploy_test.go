//go:build !race

package tests

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
)

// TestReplicasOfOneBuildServeTheSameBytes starts the same binary twice,
// one after the other, as two replicas would be: the pages carry the
// build's time, not each process's start, so bodies and ETags match and a
// cache revalidating against either gets 304.
func TestReplicasOfOneBuildServeTheSameBytes(t *testing.T) {
	t.Parallel()
	var bodies, etags [2]map[string]string
	var urls [2]string
	for i := range 2 {
		cmd := exec.Command(serverBinary(t), "-addr", "127.0.0.1:0")
		cmd.Env = environ(t)
		urls[i], _ = started(t, cmd)
		bodies[i], etags[i] = map[string]string{}, map[string]string{}
		for _, p := range []string{"/", "/about", "/products"} {
			res, err := http.Get(urls[i] + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			bodies[i][p], etags[i][p] = string(b), res.Header.Get("ETag")
		}
	}
	for p := range bodies[0] {
		if bodies[0][p] != bodies[1][p] || etags[0][p] != etags[1][p] || etags[0][p] == "" {
			t.Errorf("%s differs between two processes of one build: ETag %s vs %s", p, etags[0][p], etags[1][p])
		}
	}
	if !strings.Contains(bodies[0]["/"], "2026-01-01") {
		t.Errorf("the home page does not show the build stamp's date 2026-01-01")
	}
	req, _ := http.NewRequest("GET", urls[1]+"/about", nil)
	req.Header.Set("If-None-Match", etags[0]["/about"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidating replica one's ETag against replica two: %d, want 304", res.StatusCode)
	}
}

// TestSIGTERMDrainsWhereABalancerCanSeeIt sends SIGTERM to the binary and
// watches from outside: /readyz turns 503 at once while the listener still
// takes new connections, every answer in the window says Connection:
// close, a request in flight finishes, and then connections are refused.
func TestSIGTERMDrainsWhereABalancerCanSeeIt(t *testing.T) {
	cmd := exec.Command(serverBinary(t), "-addr", "127.0.0.1:0")
	cmd.Env = environ(t, "ATOLL_DRAIN_DELAY=1500ms")
	base, logs := started(t, cmd)
	go func() {
		for logs.Scan() { // keep the pipe drained
		}
	}()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) (*http.Response, error) {
		res, err := client.Get(base + path)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		return res, err
	}
	if res, err := get("/readyz"); err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz before SIGTERM: %v %v", res, err)
	}
	// A slow island, in flight across the whole drain.
	page, err := get("/many")
	if err != nil || page.StatusCode != 200 {
		t.Fatalf("/many: %v", err)
	}
	slow := make(chan int, 1)
	go func() {
		res, err := client.Get(base + "/")
		if err != nil {
			slow <- 0
			return
		}
		res.Body.Close()
		slow <- res.StatusCode
	}()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(1200 * time.Millisecond)
	saw503 := false
	for i := 0; i < 200 && time.Now().Before(deadline); i++ {
		res, err := get("/readyz")
		if err != nil {
			t.Fatalf("a new connection was refused during the drain: %v", err)
		}
		if res.StatusCode == http.StatusServiceUnavailable {
			saw503 = true
			if !res.Close {
				t.Fatalf("an answer during the drain lacks Connection: close: %v", res.Header)
			}
			break
		}
	}
	if !saw503 {
		t.Fatal("/readyz did not turn 503 after SIGTERM")
	}
	res, err := get("/about")
	if err != nil || res.StatusCode != 200 || !res.Close {
		t.Fatalf("a page during the drain: %v, %v (want 200 with Connection: close)", res, err)
	}
	if code := <-slow; code != 200 {
		t.Fatalf("the request in flight got %d", code)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still running 15s after SIGTERM")
	}
	if _, err := get("/readyz"); err == nil {
		t.Fatal("the server answered after it exited")
	}
}

// TestRefusedRequestsAreLoggedAndCounted sends what the HTTP layer
// refuses before any route runs: a malformed request line (400), headers
// past the read buffer (431), a body past the read limit (413), and a
// request target past MaxURI (414). Each is answered, counted in
// atoll_http_refused_total and logged; a flood is logged at a bounded
// rate.
func TestRefusedRequestsAreLoggedAndCounted(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" }))
	addr := strings.TrimPrefix(site.URL, "http://")
	raw := func(req string) string {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(conn).ReadString('\n')
		return line
	}
	if line := raw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 20<<10) + "\r\n\r\n"); !strings.Contains(line, " 431 ") {
		t.Fatalf("oversized headers: %q, want 431", line)
	}
	if line := raw(fmt.Sprintf("POST /actions/sign-in HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 2<<20)); !strings.Contains(line, " 413 ") {
		t.Fatalf("a body past the read limit: %q, want 413", line)
	}
	const flood = 25
	for range flood {
		if line := raw("NOT HTTP AT ALL\r\n\r\n"); !strings.Contains(line, " 400 ") {
			t.Fatalf("a malformed request: %q, want 400", line)
		}
	}
	if r := site.Get(t, "/?q="+strings.Repeat("a", 9<<10)); r.Status != http.StatusRequestURITooLong {
		t.Fatalf("a long request target: %d, want 414", r.Status)
	}
	res, err := site.Client().Get(site.MetricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := string(b)
	for _, want := range []string{
		fmt.Sprintf(`atoll_http_refused_total{status_code="400"} %d`, flood),
		`atoll_http_refused_total{status_code="431"} 1`,
		`atoll_http_refused_total{status_code="413"} 1`,
		`atoll_http_refused_total{status_code="414"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	logged := strings.Count(site.Logs.String(), `"message":"refused before routing"`)
	if logged < 3 || logged >= flood+2 {
		t.Errorf("%d refusals logged for %d refused requests, want some but fewer (rate-limited)", logged, flood+2)
	}
	for _, status := range []string{"431", "413"} { // sent before the flood, so within the budget
		if !strings.Contains(site.Logs.String(), `"status":`+status+`,`) {
			t.Errorf("the %s was not logged", status)
		}
	}
	if !strings.Contains(site.Logs.String(), `"status":414`) {
		t.Errorf("the 414 was not logged")
	}
}

// TestCrossSiteCheckKnowsThePublicOrigin posts from an older browser (no
// Sec-Fetch-Site) through a proxy that rewrites Host: the site's public
// origin (ATOLL_ORIGIN) or X-Forwarded-Host from a trusted proxy is
// accepted; any other origin, or X-Forwarded-Host from anyone else, is
// refused.
func TestCrossSiteCheckKnowsThePublicOrigin(t *testing.T) {
	t.Parallel()
	post := func(site *atolltest.Site, header ...string) int {
		h := append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)
		return site.Do(t, "POST", "/actions/sign-in", strings.NewReader(url.Values{"name": {"Ada"}}.Encode()), h...).Status
	}
	withOrigin := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) { c.Origin = "https://shop.example" }))
	if s := post(withOrigin, "Origin", "https://shop.example"); s != 200 {
		t.Errorf("from the public origin: %d, want 200", s)
	}
	if s := post(withOrigin, "Origin", "https://evil.example"); s != 403 {
		t.Errorf("from another origin: %d, want 403", s)
	}
	if s := post(withOrigin, "Origin", "http://shop.example"); s != 403 {
		t.Errorf("from the public host over another scheme: %d, want 403", s)
	}
	trusting := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} }))
	if s := post(trusting, "Origin", "https://public.example", "X-Forwarded-Host", "public.example"); s != 200 {
		t.Errorf("X-Forwarded-Host from a trusted proxy: %d, want 200", s)
	}
	if s := post(trusting, "Origin", "https://evil.example", "X-Forwarded-Host", "public.example"); s != 403 {
		t.Errorf("another origin behind a trusted proxy: %d, want 403", s)
	}
	plain := atolltest.Start(t, atoll.Demo())
	if s := post(plain, "Origin", "https://public.example", "X-Forwarded-Host", "public.example"); s != 403 {
		t.Errorf("X-Forwarded-Host from an untrusted client: %d, want 403", s)
	}
}

// TestASlowClientGets408AndIsCounted sends half a request and stops: the
// read deadline answers 408, which is counted and logged like the other
// refusals. (It waits out the server's 10 s read timeout.)
func TestASlowClientGets408AndIsCounted(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" }))
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(site.URL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if !strings.Contains(line, " 408 ") {
		t.Fatalf("half a request: %q (%v), want 408", line, err)
	}
	res, err := site.Client().Get(site.MetricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `atoll_http_refused_total{status_code="408"} 1`) {
		t.Error("the 408 is not counted")
	}
	if !strings.Contains(site.Logs.String(), `"status":408`) {
		t.Error("the 408 is not logged")
	}
}
