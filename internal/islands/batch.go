package islands

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atollhq/atoll/internal/requestid"
)

// MaxBatch is the most islands one batch stream renders.
const MaxBatch = 64

var placementID = regexp.MustCompile(`^island-[a-z0-9-]{1,64}-\d{1,4}$`)

// HandleBatch serves GET and POST {base}/_islands?b=…: every island the
// sealed list names, rendered concurrently and written to one
// text/event-stream response, each as its own message as soon as it is
// ready, an out-of-band <hx-partial> that replaces its placeholder. A
// failing island sends its own error state; the others still arrive. The
// response is the same whatever the request's HX-* and Accept headers say.
func (e *Engine) HandleBatch(c *fiber.Ctx) error {
	if err := admit(c); err != nil {
		return err
	}
	m := c.Method()
	if len(c.Request().RequestURI()) > MaxRequestURI {
		return &Failure{Status: fiber.StatusRequestURITooLong, Outcome: OutcomeRejected, Message: "This link is too long."}
	}
	token := c.Query("b")
	if m == fiber.MethodPost {
		token = c.FormValue("b")
	}
	specs, ids, err := e.openBatch(token)
	if err != nil {
		return &Failure{Status: fiber.StatusBadRequest, Outcome: OutcomeBadProps,
			Message: "This page has an invalid link. Reloading the page should fix it.", Cause: err}
	}
	cookies := map[string]string{}
	for _, s := range specs {
		if is, ok := e.islands[s.Name]; ok {
			for _, name := range is.Cookies {
				if v := c.Cookies(name); v != "" {
					cookies[name] = strings.Clone(v)
				}
			}
		}
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set("X-Accel-Buffering", "no") // tell nginx not to hold the stream back
	if m == fiber.MethodHead {
		return nil
	}
	log := e.opts.Log.With().Str("request_id", strings.Clone(requestid.From(c))).Logger()
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithCancel(e.opts.Context)
		defer cancel() // the client left: stop the renders still running
		type done struct {
			i    int
			body []byte
			took time.Duration
		}
		results := make(chan done, len(specs))
		// The stream waits for no island past its deadline: one that
		// ignores its context gets its timeout state in time all the same.
		start := time.Now()
		due := make([]time.Time, len(specs))
		for i, s := range specs {
			due[i] = start.Add(lateGrace)
			if is, ok := e.islands[s.Name]; ok {
				due[i] = due[i].Add(is.timeout)
			}
		}
		for i, s := range specs {
			go func() {
				start := time.Now()
				body, err := e.Render(ctx, s, cookies)
				took := time.Since(start)
				if err != nil {
					f := Fail(s, err)
					f.Annotate(log.WithLevel(f.Level()).Dur("render", took)).Msg("batch island")
					body = nil
					if f.Outcome != OutcomeCanceled {
						body = e.FailureFragment(f)
					}
				} else {
					log.Info().Str("island", s.Name).Str("outcome", string(OutcomeOK)).Dur("render", took).Msg("batch island")
				}
				results <- done{i: i, body: body, took: took}
			}()
		}
		// A first comment sends the headers at once, well inside htmx's timeout.
		w.WriteString(": atoll islands\n\n")
		if w.Flush() != nil {
			return
		}
		sent := make([]bool, len(specs))
		late := time.NewTimer(time.Hour)
		defer late.Stop()
		// A comment every second finds a client that left, so its
		// renders are cancelled rather than run to the end.
		alive := time.NewTicker(time.Second)
		defer alive.Stop()
		for left := len(specs); left > 0; {
			next := time.Time{}
			for i, d := range due {
				if !sent[i] && (next.IsZero() || d.Before(next)) {
					next = d
				}
			}
			late.Reset(time.Until(next))
			select {
			case r := <-results:
				if sent[r.i] {
					continue // given up on already
				}
				sent[r.i], left = true, left-1
				if writePartial(w, ids[r.i], r.took, r.body) != nil {
					return
				}
			case <-alive.C:
				w.WriteString(":\n\n")
				if w.Flush() != nil {
					return
				}
			case now := <-late.C:
				for i, s := range specs {
					if !sent[i] && !now.Before(due[i]) {
						sent[i], left = true, left-1
						f := timeoutFailure(s, errors.New("still running past its deadline"))
						f.Annotate(log.WithLevel(f.Level()).Dur("render", now.Sub(start))).Msg("batch island")
						if writePartial(w, ids[i], now.Sub(start), e.FailureFragment(f)) != nil {
							return
						}
					}
				}
			}
		}
	})
	return nil
}

// lateGrace is how long past an island's deadline a batch stream waits
// for it before it gives up on it.
const lateGrace = 100 * time.Millisecond

// writePartial writes one island's fragment to a batch stream as an
// out-of-band <hx-partial> for its placeholder, and flushes it.
func writePartial(w *bufio.Writer, id string, took time.Duration, body []byte) error {
	fmt.Fprintf(w, ": %s render %.2fms\n", id, float64(took.Microseconds())/1000)
	fmt.Fprintf(w, "data: <hx-partial hx-target=\"#%s\" hx-swap=\"outerHTML\">\n", id)
	for _, line := range strings.Split(strings.ReplaceAll(string(body), "\r", ""), "\n") {
		w.WriteString("data: ")
		w.WriteString(line)
		w.WriteString("\n")
	}
	w.WriteString("data: </hx-partial>\n\n")
	return w.Flush()
}

// openBatch opens and checks a sealed batch list.
func (e *Engine) openBatch(token string) ([]*Spec, []string, error) {
	if token == "" {
		return nil, nil, errors.New("no batch list")
	}
	plain, err := e.opts.Keys.Open(batchPurpose, token)
	if err != nil {
		return nil, nil, fmt.Errorf("open batch list: %w", err)
	}
	var list batchList
	if err := json.Unmarshal(plain, &list); err != nil {
		return nil, nil, fmt.Errorf("decode batch list: %w", err)
	}
	if len(list.Items) == 0 || len(list.Items) > MaxBatch {
		return nil, nil, fmt.Errorf("batch of %d islands, want 1 to %d", len(list.Items), MaxBatch)
	}
	page := SamePath(list.Page)
	specs := make([]*Spec, 0, len(list.Items))
	ids := make([]string, 0, len(list.Items))
	for _, it := range list.Items {
		if !placementID.MatchString(it.ID) {
			return nil, nil, fmt.Errorf("placement id %q", it.ID)
		}
		s := &Spec{Name: it.Name, Page: page, Props: it.Props, Every: time.Duration(it.Every) * time.Millisecond, On: it.On}
		if err := checkRefresh(s.Every, s.On); err != nil {
			return nil, nil, err
		}
		specs = append(specs, s)
		ids = append(ids, it.ID)
	}
	return specs, ids, nil
}
