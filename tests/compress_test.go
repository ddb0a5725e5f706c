//go:build !race

package tests

import (
	"github.com/atollhq/atoll"

	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/server"
)

func decode(t *testing.T, r *atolltest.Response) string {
	t.Helper()
	var rd io.Reader = strings.NewReader(r.Body)
	switch r.Header.Get("Content-Encoding") {
	case "gzip":
		g, err := gzip.NewReader(rd)
		if err != nil {
			t.Fatal(err)
		}
		rd = g
	case "br":
		rd = brotli.NewReader(rd)
	case "":
	default:
		t.Fatalf("unexpected Content-Encoding %q", r.Header.Get("Content-Encoding"))
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStaticResponsesArePrecompressedPerEncoding(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	css, err := site.Server.AssetURL("css/site.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", css} {
		plain := site.Get(t, path)
		etags := map[string]bool{}
		for _, tc := range []struct{ accept, enc string }{{"", ""}, {"gzip", "gzip"}, {"gzip, deflate, br", "br"}, {"br;q=0, gzip", "gzip"}} {
			r := site.Get(t, path, "Accept-Encoding", tc.accept)
			vary := "Accept-Encoding"
			if path == "/" {
				vary += ", " + server.EdgeHeader // a page also varies with the edge's request for its shell
			}
			if r.Status != 200 || r.Header.Get("Content-Encoding") != tc.enc || r.Header.Get("Vary") != vary {
				t.Fatalf("%s with %q: status %d, Content-Encoding %q, Vary %q", path, tc.accept, r.Status, r.Header.Get("Content-Encoding"), r.Header.Get("Vary"))
			}
			if got := decode(t, r); got != plain.Body {
				t.Fatalf("%s in %s does not decode to the page", path, tc.enc)
			}
			etags[r.Header.Get("ETag")] = true
			if again := site.Get(t, path, "Accept-Encoding", tc.accept, "If-None-Match", r.Header.Get("ETag")); again.Status != http.StatusNotModified {
				t.Fatalf("%s: revalidating the %q copy got %d", path, tc.enc, again.Status)
			}
		}
		if len(etags) != 3 {
			t.Fatalf("%s: %d distinct ETags for identity, gzip and br, want 3", path, len(etags))
		}
	}
}

func TestIslandsAreCompressedOnlyAboveTheThreshold(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, testSite())
	small := site.Island(t, "user-greeting", "Accept-Encoding", "gzip")
	if small.Header.Get("Content-Encoding") != "" {
		t.Fatalf("a %d-byte island was compressed", len(small.Body))
	}
	big := site.Get(t, "/_islands/test-large?page=%2F", "Accept-Encoding", "gzip, br")
	raw := site.Get(t, "/_islands/test-large?page=%2F")
	if len(raw.Body) < 4096 {
		t.Fatalf("the test island is only %d bytes", len(raw.Body))
	}
	if big.Header.Get("Content-Encoding") != "gzip" || big.Header.Get("Vary") != "Accept-Encoding" || !bytes.Contains([]byte(decode(t, big)), []byte(`Row 199 of`)) {
		t.Fatalf("a %d-byte island: Content-Encoding %q", len(raw.Body), big.Header.Get("Content-Encoding"))
	}
}
