// Package compress picks a response encoding from Accept-Encoding and
// makes the encoded bodies: once per body and encoding, ahead of time or
// on first request, for static bytes (Variants), or per response above a
// size threshold (Dynamic).
package compress

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
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
//
// An encoding is made at most once, either ahead of time (NewVariants) or
// when a request first asks for it (Lazy): concurrent requests for an
// encoding not made yet wait for the one compression, and the encoded
// bytes are kept from then on.
type Variants struct {
	body []byte
	etag string
	// plain is true when only body is ever sent.
	plain  bool
	gz, br encoded
}

// encoded is one encoding of a body, made once.
type encoded struct {
	once sync.Once
	body []byte // nil when the encoding is not smaller than the body
	etag string
}

// Plain holds body alone, for dev mode, where files change between
// requests and compressing them ahead of time would only slow each edit.
func Plain(body []byte, etag string) *Variants {
	return &Variants{body: body, etag: etag, plain: true}
}

// Lazy holds body and makes its gzip and brotli encodings only when a
// request first asks for each. A site's pages are served this way:
// compressing every page at startup made starting a large site take
// minutes and hold every encoding of every page, asked for or not; now
// startup compresses nothing, memory holds what has been served, and the
// first request for a page in an encoding pays for that one compression.
func Lazy(body []byte, etag string) *Variants {
	return &Variants{body: body, etag: etag, plain: len(body) < MinSize}
}

// NewVariants encodes body with gzip and brotli at their best levels now,
// keeping an encoding only when it is smaller. etag is the identity
// body's strong ETag ("…" with quotes); the others derive from it.
//
// Brotli's window is made just large enough for body (BrotliWindow): the
// output is as small, and the encoder allocates a few hundred KiB for a
// page instead of the ~33 MiB its default window takes at quality 11,
// which, for every page and asset at startup, left the process holding
// some 90 MiB it no longer used.
//
// The encodings are remembered for the life of the process, by the body's
// SHA-256 (see made): a body compressed once is not compressed again by
// another site or another start in the same process (a test suite starts
// the same site dozens of times; at their best levels, brotli and gzip took
// most of each start).
func NewVariants(body []byte, etag string) *Variants {
	v := Lazy(body, etag)
	if v.plain {
		return v
	}
	sum := sha256.Sum256(body)
	if gz, br, ok := made.get(sum); ok {
		v.adopt(Gzip, gz)
		v.adopt(Brotli, br)
		return v
	}
	made.put(sum, v.encoding(Gzip).body, v.encoding(Brotli).body)
	return v
}

// madeLimit bounds what made holds: more than a site's public files, far
// less than memory.
const madeLimit = 32 << 20

// made holds the encodings NewVariants made, by the body's SHA-256. It
// shares the bytes the Variants hold, so a server holds nothing twice;
// past madeLimit it starts again empty.
var made = &memo{m: map[[sha256.Size]byte][2][]byte{}}

type memo struct {
	sync.Mutex
	m    map[[sha256.Size]byte][2][]byte
	size int
}

func (c *memo) get(sum [sha256.Size]byte) (gz, br []byte, ok bool) {
	c.Lock()
	defer c.Unlock()
	e, ok := c.m[sum]
	return e[0], e[1], ok
}

func (c *memo) put(sum [sha256.Size]byte, gz, br []byte) {
	c.Lock()
	defer c.Unlock()
	if c.size+len(gz)+len(br) > madeLimit {
		clear(c.m)
		c.size = 0
	}
	c.m[sum] = [2][]byte{gz, br}
	c.size += len(gz) + len(br)
}

// slot is where the encoding enc is kept, how it is made, and the suffix
// its ETag adds to the identity body's.
func (v *Variants) slot(enc string) (e *encoded, encode func([]byte) []byte, suffix string) {
	if enc == Brotli {
		return &v.br, bestBrotli, `-br"`
	}
	return &v.gz, bestGzip, `-gz"`
}

// encoding returns the body in enc, compressing it on the first call.
func (v *Variants) encoding(enc string) *encoded {
	e, encode, suffix := v.slot(enc)
	e.once.Do(func() {
		if b := encode(v.body); len(b) < len(v.body) {
			e.keep(b, v.etag, suffix)
		}
	})
	return e
}

// adopt takes b, made from the same body before (nil when it was not
// smaller), as the encoding enc.
func (v *Variants) adopt(enc string, b []byte) {
	e, _, suffix := v.slot(enc)
	e.once.Do(func() {
		if b != nil {
			e.keep(b, v.etag, suffix)
		}
	})
}

// keep holds b as the encoding, with its ETag.
func (e *encoded) keep(b []byte, etag, suffix string) {
	e.body, e.etag = b, strings.TrimSuffix(etag, `"`)+suffix
}

func bestGzip(body []byte) []byte {
	var gz bytes.Buffer
	w := bestGzipWriters.Get().(*gzip.Writer)
	w.Reset(&gz)
	w.Write(body)
	w.Close()
	bestGzipWriters.Put(w)
	return gz.Bytes()
}

func bestBrotli(body []byte) []byte {
	var br bytes.Buffer
	bw := brotli.NewWriterOptions(&br, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: BrotliWindow(len(body))})
	bw.Write(body)
	bw.Close()
	return br.Bytes()
}

// BrotliWindow is the base-2 logarithm of the smallest brotli window that
// holds n bytes (a window of 2^w bytes reaches back 2^w-16), between
// brotli's least, 10, and its default, 22.
func BrotliWindow(n int) int {
	w := bits.Len(uint(n + 16))
	return min(max(w, 10), 22)
}

// bestGzipWriters hold gzip writers at the best level for Variants, so
// compressing pages and assets reuses writers' buffers rather than
// allocating them per body.
var bestGzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestCompression)
	return w
}}

// Pick returns the body, encoding and ETag for a request's
// Accept-Encoding: brotli, then gzip, then identity, skipping any the
// client refuses with q=0 and any that is not smaller than the body.
func (v *Variants) Pick(acceptEncoding string) (body []byte, encoding, etag string) {
	if !v.plain {
		for _, enc := range []string{Brotli, Gzip} {
			if !Accepts(acceptEncoding, enc) {
				continue
			}
			if e := v.encoding(enc); e.body != nil {
				return e.body, enc, e.etag
			}
		}
	}
	return v.body, Identity, v.etag
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
