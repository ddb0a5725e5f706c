package tests

import (
	"github.com/atollhq/atoll"

	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
)

// sseMessages splits a text/event-stream body into the data of its
// messages, each message's data lines joined with newlines.
func sseMessages(body string) []string {
	var out []string
	for _, block := range strings.Split(body, "\n\n") {
		var data []string
		for _, line := range strings.Split(block, "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				data = append(data, d)
			}
		}
		if len(data) > 0 {
			out = append(out, strings.Join(data, "\n"))
		}
	}
	return out
}

var batchURL = regexp.MustCompile(`id="islands-batch"[^>]*hx-get="([^"]+)"`)

func TestBatchStreamDeliversEveryIslandAndContainsFailures(t *testing.T) {
	t.Parallel()
	files := siteFiles(t)
	files["pages/mixed.html"] = &fstest.MapFile{Data: []byte("{{/*\nislands: batch\n*/}}\n" +
		`{{ island "server-info" }}{{ island "fault-error" }}{{ island "latency" (props "n" 3 "ms" 30) }}{{ island "fault-panic" }}{{ island "ticker" visible }}`)}
	site := atolltest.Start(t, atoll.Demo(), atolltest.WithFiles(files))
	page := site.Get(t, "/mixed")
	m := batchURL.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no batch element on a batched page")
	}
	u := strings.ReplaceAll(m[1], "&amp;", "&")
	if len(u) > 2048 || strings.Contains(u, "server-info") {
		t.Fatalf("the batch URL is %d bytes or names its islands in the clear: %s", len(u), u)
	}
	for _, hdr := range [][]string{nil, {"HX-Request", "true", "Accept", "text/html, text/event-stream"}} {
		r := site.Get(t, u, hdr...)
		if r.Status != 200 || r.Header.Get("Content-Type") != "text/event-stream" || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("headers %v: status %d, Content-Type %q, Cache-Control %q", hdr, r.Status, r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"))
		}
		msgs := sseMessages(r.Body)
		if len(msgs) != 5 {
			t.Fatalf("%d messages, want 5 (the layout's cart count and four of the page's; the visible ticker is not batched): %q", len(msgs), r.Body)
		}
		want := map[string]string{
			"island-server-info-1": `data-field="token"`,
			"island-fault-error-1": `role="alert"`,
			"island-latency-1":     `<strong data-field="n">#3</strong>`,
			"island-fault-panic-1": `class="retry"`,
		}
		for id, content := range want {
			found := false
			for _, msg := range msgs {
				if strings.HasPrefix(msg, `<hx-partial hx-target="#`+id+`" hx-swap="outerHTML">`) && strings.Contains(msg, content) && strings.HasSuffix(msg, "</hx-partial>") {
					found = true
				}
			}
			if !found {
				t.Errorf("no partial for #%s holding %s in %q", id, content, r.Body)
			}
		}
	}
	if !strings.Contains(page.Body, `id="island-ticker-1"`) || !strings.Contains(page.Body, `hx-trigger="revealed"`) {
		t.Errorf("the visible island should keep its own trigger on a batched page")
	}
	if n := strings.Count(page.Body, `hx-trigger="atoll:fallback"`); n != 5 {
		t.Errorf("%d batched placeholders, want 5", n)
	}
}

// TestSealedURLsWorkAcrossReplicas renders a page on one server and
// fetches its batch stream and a props-carrying island from another that
// shares the key, as replicas behind a load balancer or a restarted
// server would; a server with another key refuses them.
func TestSealedURLsWorkAcrossReplicas(t *testing.T) {
	t.Parallel()
	shared := testConfig().Keys
	withKey := func(keys [][]byte) atolltest.Option {
		return atolltest.WithConfig(func(c *config.Config) { c.Keys = keys })
	}
	a := atolltest.Start(t, atoll.Demo(), withKey(shared))
	b := atolltest.Start(t, atoll.Demo(), withKey(shared))
	other := atolltest.Start(t, atoll.Demo())

	page := a.Get(t, "/many-batched")
	m := batchURL.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatal("no batch element")
	}
	u := strings.ReplaceAll(m[1], "&amp;", "&")
	if r := b.Get(t, u); r.Status != 200 || len(sseMessages(r.Body)) != 11 { // ten tiles and the cart count
		t.Fatalf("replica b: status %d, %d messages", r.Status, len(sseMessages(r.Body)))
	}
	if r := other.Get(t, u); r.Status != 400 {
		t.Fatalf("a server with another key answered %d, want 400", r.Status)
	}
	island := regexp.MustCompile(`hx-get="(/_islands/latency[^"]+)"`).FindStringSubmatch(a.Get(t, "/many").Body)
	if island == nil {
		t.Fatal("no latency placeholder on /many")
	}
	if r := b.Get(t, strings.ReplaceAll(island[1], "&amp;", "&")); r.Status != 200 || !strings.Contains(r.Body, "tile--done") {
		t.Fatalf("replica b, island with props: %d %q", r.Status, r.Body)
	}
	t.Logf("batch URL for ten islands: %d bytes", len(u))
}
