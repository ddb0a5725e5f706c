package compress

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
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
	if _, enc, _ := NewVariants([]byte("tiny"), `"t"`).Pick("br, gzip"); enc != Identity {
		t.Fatal("a tiny body was compressed")
	}
	if b, enc := Dynamic("gzip", body); enc != Gzip || len(b) >= len(body) {
		t.Fatal("a large dynamic body was not gzipped")
	}
	if _, enc := Dynamic("gzip", []byte("tiny")); enc != Identity {
		t.Fatal("a tiny dynamic body was gzipped")
	}
}

func TestBrotliWindow(t *testing.T) {
	cases := []struct{ n, want int }{
		{0, 10},              // brotli's least window
		{1000, 10},           // 1,016 bytes fit in 2^10-16
		{1009, 11},           // 1,025 do not
		{3_300, 12},          // a page
		{50_000, 16},         // a script bundle
		{(1 << 22) - 16, 22}, // exactly the default window
		{100 << 20, 22},      // never above the default
	}
	for _, tc := range cases {
		if got := BrotliWindow(tc.n); got != tc.want {
			t.Errorf("BrotliWindow(%d) = %d, want %d", tc.n, got, tc.want)
		}
		if w := BrotliWindow(tc.n); w < 22 && (1<<w)-16 < tc.n {
			t.Errorf("BrotliWindow(%d) = %d: a window of %d bytes cannot reach back over the body", tc.n, w, (1<<w)-16)
		}
	}
}

// TestSizedBrotliWindowCompressesAsWell checks that a window just large
// enough for the body gives output no larger than brotli's default.
func TestSizedBrotliWindowCompressesAsWell(t *testing.T) {
	var body []byte
	for i := range 400 {
		body = append(body, fmt.Sprintf("<li class=\"item\"><a href=\"/products/%d\">Product %d</a> costs %d.%02d</li>\n", i, i, i*7%100, i%100)...)
	}
	var def bytes.Buffer
	w := brotli.NewWriterLevel(&def, brotli.BestCompression)
	w.Write(body)
	w.Close()
	sized, _, _ := NewVariants(body, `"x"`).Pick("br")
	if len(sized) > def.Len() {
		t.Fatalf("a sized window gives %d bytes, the default %d", len(sized), def.Len())
	}
}

// TestLazyCompressesOnceOnFirstAsk checks that Lazy compresses nothing
// until an encoding is asked for, then makes it once: concurrent first
// requests all get the same bytes and ETag.
func TestLazyCompressesOnceOnFirstAsk(t *testing.T) {
	t.Parallel()
	body := []byte(strings.Repeat("<p>Server Islands for Go.</p>\n", 200))
	v := Lazy(body, `"abc"`)
	if v.gz.body != nil || v.br.body != nil {
		t.Fatal("Lazy compressed before any request asked")
	}
	if _, enc, etag := v.Pick("gzip"); enc != Gzip || etag != `"abc-gz"` {
		t.Fatalf("Pick(gzip) = %s %s", enc, etag)
	}
	if v.br.body != nil {
		t.Fatal("a gzip request made the brotli encoding too")
	}
	got := make([][]byte, 8)
	done := make(chan int)
	for i := range got {
		go func() {
			b, enc, etag := v.Pick("br")
			if enc != Brotli || etag != `"abc-br"` {
				b = nil
			}
			got[i] = b
			done <- i
		}()
	}
	for range got {
		<-done
	}
	for i, b := range got {
		if b == nil || &b[0] != &got[0][0] {
			t.Fatalf("request %d got other brotli bytes than request 0", i)
		}
	}
	if _, enc, _ := Lazy([]byte("tiny"), `"t"`).Pick("br, gzip"); enc != Identity {
		t.Fatal("a tiny body was compressed")
	}
}

// TestTheSameBodyIsCompressedOnce: a second NewVariants of bytes already
// compressed in this process uses the encodings made the first time (the
// same bytes, not a copy), each under the new identity ETag; and a body
// of incompressible bytes stays identity-only either way.
func TestTheSameBodyIsCompressedOnce(t *testing.T) {
	body := []byte(strings.Repeat("<li>the same stylesheet, started again</li>\n", 100))
	first := NewVariants(body, `"one"`)
	second := NewVariants(bytes.Clone(body), `"two"`)
	for _, enc := range []string{Gzip, Brotli} {
		a, b := first.encoding(enc), second.encoding(enc)
		if a.body == nil || &a.body[0] != &b.body[0] {
			t.Errorf("%s: the second NewVariants compressed the body again", enc)
		}
	}
	if _, _, etag := second.Pick("br"); etag != `"two-br"` {
		t.Errorf("the second variants' brotli ETag is %s, want \"two-br\"", etag)
	}
	if _, _, etag := second.Pick("gzip"); etag != `"two-gz"` {
		t.Errorf("the second variants' gzip ETag is %s, want \"two-gz\"", etag)
	}
	noise := make([]byte, 4096)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	for range 2 {
		if _, enc, _ := NewVariants(noise, `"n"`).Pick("br, gzip"); enc != Identity {
			t.Fatalf("incompressible bytes were sent as %s", enc)
		}
	}
}
