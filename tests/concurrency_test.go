package tests

import (
	"github.com/atollhq/atoll"

	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/config"
)

// TestConcurrentPagesAndIslands sends several hundred page and island
// requests at once, with the static build and with dev mode (which renders
// layout pages per request while islands render beside them: the case the
// template/html v2.1.3 race breaks). Run under -race it proves that
// nothing shared between renders can fail.
func TestConcurrentPagesAndIslands(t *testing.T) {
	for _, dev := range []bool{false, true} {
		t.Run(fmt.Sprintf("dev=%v", dev), func(t *testing.T) {
			site := atolltest.Start(t, atoll.Demo(), atolltest.WithConfig(func(c *config.Config) {
				c.Dev = dev
				c.Root = ".." // the repository, for dev mode's reads from disk
			}))
			type probe struct {
				path   string
				status int
				want   string
			}
			probes := []probe{
				{"/", 200, "Server Islands"},
				{"/about", 200, "About Atoll"},
				{"/_islands/server-info", 200, `data-field="token"`},
				{"/_islands/user-greeting", 200, "Hello, "},
				{"/no-such-page", 404, "Page not found"},
				{"/_islands/no-such-island", 404, `role="alert"`},
			}
			const requests, workers = 480, 24
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var next, failures atomic.Int64
			var firstErr sync.Once
			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= requests || ctx.Err() != nil {
							return
						}
						p := probes[i%int64(len(probes))]
						if err := fetch(ctx, site.Client(), site.URL+p.path, p.status, p.want); err != nil {
							failures.Add(1)
							firstErr.Do(func() { t.Errorf("%s: %v", p.path, err) })
						}
					}
				}()
			}
			wg.Wait()
			if n := next.Load(); n < requests {
				t.Fatalf("only %d of %d requests were sent before the deadline", n, requests)
			}
			if f := failures.Load(); f > 0 {
				t.Fatalf("%d of %d concurrent requests failed", f, requests)
			}
			if strings.Contains(site.Logs.String(), `"level":"error"`) {
				t.Fatalf("the server logged errors under concurrent load:\n%s", site.Logs.String())
			}
		})
	}
}

func fetch(ctx context.Context, c *http.Client, url string, status int, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != status || !strings.Contains(string(body), want) {
		return fmt.Errorf("status %d, want %d with %q; body %.200q", res.StatusCode, status, want, body)
	}
	return nil
}
