package compress

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func TestAccepts(t *testing.T) {
	cases := []struct {
		header, enc string
		want        bool
	}{
		{"gzip, deflate, br", "br", true},
		{"gzip, deflate, br", "gzip", true},
		{"gzip;q=0, br", "gzip", false},
		{"GZIP", "gzip", true},
		{"*", "br", true},
		{"*;q=0, gzip", "br", false},
		{"", "gzip", false},
		{"identity", "gzip", false},
		{"br;q=0.5", "br", true},
	}
	for _, tc := range cases {
		if got := Accepts(tc.header, tc.enc); got != tc.want {
			t.Errorf("Accepts(%q, %q) = %v, want %v", tc.header, tc.enc, got, tc.want)
		}
	}
}

func TestVariantsRoundTrip(t *testing.T) {
	body := []byte(strings.Repeat("<p>Server Islands for Go.</p>\n", 200))
	v := NewVariants(body, `"abc"`)
	for _, tc := range []struct{ accept, enc, etag string }{
		{"gzip, br", Brotli, `"abc-br"`},
		{"gzip", Gzip, `"abc-gz"`},
		{"", Identity, `"abc"`},
		{"br;q=0, gzip;q=0", Identity, `"abc"`},
	} {
		b, enc, etag := v.Pick(tc.accept)
		if enc != tc.enc || etag != tc.etag {
			t.Fatalf("Pick(%q) = %s %s, want %s %s", tc.accept, enc, etag, tc.enc, tc.etag)
		}
		var r io.Reader = bytes.NewReader(b)
		switch enc {
		case Gzip:
			r, _ = gzip.NewReader(r)
		case Brotli:
			r = brotli.NewReader(r)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%s does not decode to the body: %v", enc, err)
		}
	}
	if small := NewVariants([]byte("tiny"), `"t"`); len(small.bodies) != 1 {
		t.Fatal("a tiny body was compressed")
	}
	if b, enc := Dynamic("gzip", body); enc != Gzip || len(b) >= len(body) {
		t.Fatal("a large dynamic body was not gzipped")
	}
	if _, enc := Dynamic("gzip", []byte("tiny")); enc != Identity {
		t.Fatal("a tiny dynamic body was gzipped")
	}
}
