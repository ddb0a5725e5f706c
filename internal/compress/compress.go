// Package compress picks a response encoding from Accept-Encoding and
// makes the encoded bodies: once, ahead of time, for static bytes
// (Variants), or per response above a size threshold (Dynamic).
package compress

import (
	"bytes"
	"compress/gzip"
	"math/bits"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// Encodings, as they appear in Content-Encoding.
const (
	Identity = ""
	Gzip     = "gzip"
	Brotli   = "br"
)

// MinSize is the smallest body worth compressing.
const MinSize = 1024

// Variants are one body in every encoding worth sending, each with its
// own strong ETag, so a cache never hands gzip bytes to a client that
// asked for brotli under the same validator.
type Variants struct {
	bodies map[string][]byte
	etags  map[string]string
}

// NewVariants encodes body with gzip and brotli at their best levels,
// keeping an encoding only when it is smaller. etag is the identity
// body's strong ETag ("…" with quotes); the others derive from it.
//
// Brotli's window is made just large enough for body (BrotliWindow): the
// output is as small, and the encoder allocates a few hundred KiB for a
// page instead of the ~33 MiB its default window takes at quality 11,
// which, for every page and asset at startup, left the process holding
// some 90 MiB it no longer used.
// Plain holds body alone, for dev mode, where files change between
// requests and compressing them ahead of time would only slow each edit.
func Plain(body []byte, etag string) *Variants {
	return &Variants{bodies: map[string][]byte{Identity: body}, etags: map[string]string{Identity: etag}}
}

func NewVariants(body []byte, etag string) *Variants {
	v := &Variants{bodies: map[string][]byte{Identity: body}, etags: map[string]string{Identity: etag}}
	if len(body) < MinSize {
		return v
	}
	base := strings.TrimSuffix(etag, `"`)
	var gz bytes.Buffer
	w := bestGzipWriters.Get().(*gzip.Writer)
	w.Reset(&gz)
	w.Write(body)
	w.Close()
	bestGzipWriters.Put(w)
	if gz.Len() < len(body) {
		v.bodies[Gzip], v.etags[Gzip] = gz.Bytes(), base+`-gz"`
	}
	var br bytes.Buffer
	bw := brotli.NewWriterOptions(&br, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: BrotliWindow(len(body))})
	bw.Write(body)
	bw.Close()
	if br.Len() < len(body) {
		v.bodies[Brotli], v.etags[Brotli] = br.Bytes(), base+`-br"`
	}
	return v
}

// BrotliWindow is the base-2 logarithm of the smallest brotli window that
// holds n bytes (a window of 2^w bytes reaches back 2^w-16), between
// brotli's least, 10, and its default, 22.
func BrotliWindow(n int) int {
	w := bits.Len(uint(n + 16))
	return min(max(w, 10), 22)
}

// bestGzipWriters hold gzip writers at the best level for NewVariants, so
// precompressing every page and asset at startup reuses one writer's
// buffers rather than allocating them per body.
var bestGzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestCompression)
	return w
}}

// Pick returns the body, encoding and ETag for a request's
// Accept-Encoding: brotli, then gzip, then identity, skipping any the
// client refuses with q=0.
func (v *Variants) Pick(acceptEncoding string) (body []byte, encoding, etag string) {
	for _, enc := range []string{Brotli, Gzip} {
		if b, ok := v.bodies[enc]; ok && Accepts(acceptEncoding, enc) {
			return b, enc, v.etags[enc]
		}
	}
	return v.bodies[Identity], Identity, v.etags[Identity]
}

// Accepts reports whether an Accept-Encoding header accepts enc. It
// walks the header in place, allocating nothing.
func Accepts(header, enc string) bool {
	star := false
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ",")
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.TrimSpace(name)
		isEnc := strings.EqualFold(name, enc)
		if !isEnc && name != "*" {
			continue
		}
		q := 1.0
		if k, val, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
				q = f
			}
		}
		if isEnc {
			return q > 0
		}
		star = q > 0
	}
	return star
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// Dynamic gzips body for a response made per request, when the client
// accepts gzip and the body is at least MinSize; otherwise it returns
// body as it is and Identity.
func Dynamic(acceptEncoding string, body []byte) ([]byte, string) {
	if len(body) < MinSize || !Accepts(acceptEncoding, Gzip) {
		return body, Identity
	}
	var buf bytes.Buffer
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&buf)
	w.Write(body)
	w.Close()
	gzipWriters.Put(w)
	if buf.Len() >= len(body) {
		return body, Identity
	}
	return buf.Bytes(), Gzip
}
