package server

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// syncBuffer is a bytes.Buffer safe to read while the LogBuffer's
// goroutine writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogBuffer(t *testing.T) {
	var out syncBuffer
	// An interval far beyond the test, so only Flush, a warning and Close write.
	lb := NewLogBuffer(&out, time.Hour)
	log := zerolog.New(lb)

	log.Info().Msg("one")
	if got := out.String(); got != "" {
		t.Fatalf("an info line was written at once: %q", got)
	}
	log.Warn().Msg("two")
	if got := out.String(); got != `{"level":"info","message":"one"}`+"\n"+`{"level":"warn","message":"two"}`+"\n" {
		t.Fatalf("a warning did not write the buffer, in order: %q", got)
	}
	log.Info().Msg("three")
	if err := lb.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !bytes.HasSuffix([]byte(got), []byte(`{"level":"info","message":"three"}`+"\n")) {
		t.Fatalf("Close did not write the rest: %q", got)
	}
	if err := lb.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}

func TestLogBufferWritesWhenFull(t *testing.T) {
	var out syncBuffer
	lb := NewLogBuffer(&out, time.Hour)
	defer lb.Close()
	line := append(bytes.Repeat([]byte("x"), 1023), '\n')
	for range logBufferSize/len(line) + 1 {
		lb.Write(line)
	}
	if n := len(out.String()); n != logBufferSize {
		t.Fatalf("%d bytes written once the buffer filled, want %d", n, logBufferSize)
	}
}
