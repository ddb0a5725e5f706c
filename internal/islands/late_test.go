package islands

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/island"
)

// stuckEngine serves "test-stuck", an island that ignores its context and
// returns only once release is closed (it sends its context on started
// first), and "test-quick", which answers at once.
func stuckEngine(t *testing.T, timeout time.Duration, maxRenders int) (e *Engine, started chan context.Context, release chan struct{}) {
	t.Helper()
	started, release = make(chan context.Context, 4), make(chan struct{})
	t.Cleanup(func() { close(release) })
	set := island.NewSet()
	set.Register(island.Island{Name: "test-stuck", Timeout: timeout, Template: `<p>late</p>`,
		Render: func(r *island.Request) (any, error) {
			started <- r.Context()
			<-release
			return struct{}{}, nil
		}})
	set.Register(island.Island{Name: "test-quick", Template: `<p>quick</p>`, Render: renderEmpty})
	keys, err := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e, err = New(Options{Timeout: time.Second, Log: zerolog.Nop(), Keys: keys, Islands: set, MaxRenders: maxRenders})
	if err != nil {
		t.Fatal(err)
	}
	return e, started, release
}

// An island that runs past its deadline without honouring its context
// answers 504 when it returns, never its late output.
func TestALateIslandAnswers504(t *testing.T) {
	e, started, release := stuckEngine(t, 50*time.Millisecond, 0)
	type result struct {
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		body, err := e.Render(context.Background(), &Spec{Name: "test-stuck", Page: "/"}, nil)
		done <- result{body, err}
	}()
	ctx := <-started
	<-ctx.Done() // its deadline passed while it ran
	release <- struct{}{}
	r := <-done
	var f *Failure
	if !errors.As(r.err, &f) || f.Status != fiber.StatusGatewayTimeout || f.Outcome != OutcomeTimeout {
		t.Fatalf("late island: body %q, error %v; want a 504 timeout Failure", r.body, r.err)
	}
}

// A batch stream does not wait for an island past its deadline: the
// stuck one's timeout state and the quick one's fragment both arrive
// while the stuck island still runs.
func TestABatchStreamGivesUpOnALateIsland(t *testing.T) {
	e, started, _ := stuckEngine(t, 50*time.Millisecond, 0)
	_, getURL := e.BatchElement("/", []*Placement{
		{Spec: Spec{Name: "test-stuck"}, ID: "island-test-stuck-1", Batched: true},
		{Spec: Spec{Name: "test-quick"}, ID: "island-test-quick-2", Batched: true},
	})
	u, err := url.Parse(getURL)
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	app.Get(Path, e.HandleBatch)
	resp, err := app.Test(httptest.NewRequest("GET", u.RequestURI(), nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	default:
		t.Fatal("the stuck island never ran")
	}
	stream := string(body)
	for _, want := range []string{
		`hx-target="#island-test-quick-2"`, "<p>quick</p>",
		`hx-target="#island-test-stuck-1"`, "This part of the page took too long.",
	} {
		if !strings.Contains(stream, want) {
			t.Errorf("the stream lacks %q:\n%s", want, stream)
		}
	}
	if strings.Contains(stream, "<p>late</p>") {
		t.Errorf("the stream carries the late island's output:\n%s", stream)
	}
}

// Renders are bounded overall and per island: past its share, an island
// is refused with 503 and Retry-After at once, and the others still
// render.
func TestRendersPastTheBoundAreRefused(t *testing.T) {
	e, started, release := stuckEngine(t, time.Minute, 4) // one render of an island at a time
	done := make(chan error, 1)
	go func() {
		_, err := e.Render(context.Background(), &Spec{Name: "test-stuck", Page: "/"}, nil)
		done <- err
	}()
	<-started
	_, err := e.Render(context.Background(), &Spec{Name: "test-stuck", Page: "/"}, nil)
	var f *Failure
	if !errors.As(err, &f) || f.Status != fiber.StatusServiceUnavailable || f.Outcome != OutcomeSaturated || f.RetryAfter == 0 {
		t.Fatalf("a second render of a saturated island: %v, want 503 saturated with Retry-After", err)
	}
	if _, err := e.Render(context.Background(), &Spec{Name: "test-quick", Page: "/"}, nil); err != nil {
		t.Fatalf("another island while one is saturated: %v", err)
	}
	release <- struct{}{}
	if err := <-done; err != nil {
		t.Fatalf("the first render: %v", err)
	}
	go func() { <-started; release <- struct{}{} }()
	if _, err := e.Render(context.Background(), &Spec{Name: "test-stuck", Page: "/"}, nil); err != nil {
		t.Fatalf("once the first render ended, the island renders again: %v", err)
	}
}

// A batch stream whose client leaves cancels the renders still running.
func TestABatchStreamCancelsRendersWhenItsClientLeaves(t *testing.T) {
	e, started, _ := stuckEngine(t, time.Minute, 0)
	_, getURL := e.BatchElement("/", []*Placement{{Spec: Spec{Name: "test-stuck"}, ID: "island-test-stuck-1", Batched: true}})
	app := fiber.New()
	app.Get(Path, e.HandleBatch)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", getURL)
	if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil { // the status line: the stream began
		t.Fatal(err)
	}
	ctx := <-started
	conn.Close()
	select {
	case <-ctx.Done():
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Fatalf("the render's context ended with %v, want it cancelled", ctx.Err())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the render still runs 10 s after its client left")
	}
}
