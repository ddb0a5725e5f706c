package server

import (
	"errors"
	"io"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/internal/islands"
	"github.com/atollhq/atoll/internal/requestid"
	"github.com/atollhq/atoll/store"
)

const localError = "atoll.error"

// requestLog gives every request an id (a well-formed incoming
// X-Request-ID is kept, anything else replaced), echoes it in the
// X-Request-ID response header, hands errors to the error handler, and
// writes one log line per request: id, method, path, status, latency, the
// island and its render time where there is one, and the error, once.
func requestLog(log zerolog.Logger, handleError fiber.ErrorHandler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		id := c.Get(fiber.HeaderXRequestID)
		if u, err := uuid.Parse(id); err != nil || len(id) != 36 || u == uuid.Nil {
			id = uuid.NewString()
		}
		c.Locals(requestid.Local, id)
		c.Response().Header.Add(fiber.HeaderXRequestID, id) // the first header of a fresh response: nothing to replace

		if err := c.Next(); err != nil {
			if herr := handleError(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}

		status := c.Response().StatusCode()
		err, _ := c.Locals(localError).(error)
		var f *islands.Failure
		errors.As(err, &f)
		ev := log.WithLevel(levelOf(status, err, f)).Str("request_id", id).Str("method", c.Method()).Str("path", c.Path()).
			Int("status", status).Dur("latency", time.Since(start))
		if d, ok := c.Locals(islands.LocalRender).(time.Duration); ok {
			ev = ev.Dur("render", d)
		}
		switch {
		case f != nil:
			ev = f.Annotate(ev)
		case err != nil && status != fiber.StatusNotFound:
			ev = ev.AnErr("error", err)
			var p *panicError
			if errors.As(err, &p) {
				ev = ev.Bytes("stack", p.stack)
			}
		default:
			if name, ok := c.Locals(islands.LocalIsland).(string); ok {
				ev = ev.Str("island", name)
			}
			if o, ok := c.Locals(islands.LocalOutcome).(islands.Outcome); ok {
				ev = ev.Str("outcome", string(o))
			}
		}
		ev.Msg("request")
		return nil
	}
}

// levelOf is the level of a request's log line: info for an answer, and
// for a failure the level its type gives it (an island's Failure.Level;
// a store outage info, since the outage is logged once where it is
// noticed); otherwise error for a server-side failure, warn for a refusal.
func levelOf(status int, err error, f *islands.Failure) zerolog.Level {
	switch {
	case f != nil:
		return f.Level()
	case err == nil || status == fiber.StatusNotFound || store.Unavailable(err):
		return zerolog.InfoLevel
	case status >= 500:
		return zerolog.ErrorLevel
	}
	return zerolog.WarnLevel
}

// LogBuffer batches log lines on their way to w, so that a request's log
// line costs a copy instead of a write system call. It writes what it
// holds every interval, as soon as it holds 32 KiB, at once when a line at
// warn level or above arrives (so errors are never late), and on Flush
// and Close. Lines written less than one interval before the process dies
// without Close (SIGKILL, a fatal runtime error) are lost.
type LogBuffer struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	err  error // the last failed write, returned by the next Write
	once sync.Once
	stop chan struct{}
	done chan struct{}
}

const logBufferSize = 32 << 10

// NewLogBuffer starts a LogBuffer writing to w every interval. Close it
// to write the rest and stop its goroutine.
func NewLogBuffer(w io.Writer, interval time.Duration) *LogBuffer {
	b := &LogBuffer{w: w, buf: make([]byte, 0, logBufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = b.Flush()
			case <-b.stop:
				return
			}
		}
	}()
	return b
}

// Write adds p, one log line, to the buffer.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > logBufferSize {
		b.flushLocked()
	}
	b.buf = append(b.buf, p...)
	err := b.err
	b.err = nil
	return len(p), err
}

// WriteLevel adds p and writes the buffer at once if p is at warn level
// or above. zerolog calls it instead of Write.
func (b *LogBuffer) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	n, err := b.Write(p)
	if l >= zerolog.WarnLevel && l != zerolog.NoLevel {
		if ferr := b.Flush(); err == nil {
			err = ferr
		}
	}
	return n, err
}

// Flush writes what the buffer holds.
func (b *LogBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	err := b.err
	b.err = nil
	return err
}

func (b *LogBuffer) flushLocked() {
	if len(b.buf) == 0 {
		return
	}
	if _, err := b.w.Write(b.buf); err != nil {
		b.err = err
	}
	b.buf = b.buf[:0]
}

// Close stops the periodic writes and writes the rest.
func (b *LogBuffer) Close() error {
	b.once.Do(func() { close(b.stop) })
	<-b.done
	return b.Flush()
}

var _ zerolog.LevelWriter = (*LogBuffer)(nil)
