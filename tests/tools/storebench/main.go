// Command storebench measures the demo site on its two stores in one
// run: the embedded SQLite file and PostgreSQL (a throwaway cluster,
// started and stopped here, or ATOLL_TEST_POSTGRES). For each store it
// reports actions per second (POST /actions/sign-in, which writes a user
// and a session) and the latency of an island that reads the session
// and the cart (cart-count, with a signed-in visitor's cookie). The two
// sites run in this process and take turns under the same load, so
// whatever else runs on the machine weighs on both alike; the figures to
// quote are the ratios it prints.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/atollhq/atoll/internal/pgtest"
	"github.com/atollhq/atoll/tests/internal/loadgen"
	"github.com/atollhq/atoll/tests/internal/localsite"
)

const turns = 4

func main() {
	d := flag.Duration("d", 4*time.Second, "load per measurement, split into turns")
	c := flag.Int("c", 16, "concurrent connections")
	flag.Parse()
	if err := run(*d, *c); err != nil {
		fmt.Fprintln(os.Stderr, "storebench:", err)
		os.Exit(1)
	}
}

type site struct {
	name   string
	s      *localsite.Site
	cookie string
}

func run(d time.Duration, workers int) error {
	pgURL := os.Getenv("ATOLL_TEST_POSTGRES")
	if pgURL == "" {
		pg, err := pgtest.Start()
		if err != nil {
			return err
		}
		defer pg.Stop()
		pgURL = pg.URL
	}
	sqlite, err := localsite.Start(zerolog.Nop())
	if err != nil {
		return err
	}
	defer sqlite.Close()
	postgres, err := localsite.StartWith(zerolog.Nop(), pgURL)
	if err != nil {
		return err
	}
	defer postgres.Close()
	sites := []*site{{name: "sqlite", s: sqlite}, {name: "postgres", s: postgres}}
	for _, s := range sites {
		if s.cookie, err = signIn(s.s.URL); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	fmt.Printf("stores: %d connections, %s per measurement in %d alternating turns\n\n", workers, d, turns)
	form := url.Values{"name": {"Ada"}}.Encode()
	measures := []struct {
		name   string
		target func(s *site) loadgen.Target
	}{
		{"action", func(s *site) loadgen.Target {
			return loadgen.Target{Name: s.name, URL: s.s.URL + "/actions/sign-in", Method: "POST", Body: form,
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"same-origin"}}}
		}},
		{"island", func(s *site) loadgen.Target {
			return loadgen.Target{Name: s.name, URL: s.s.URL + "/_islands/cart-count?page=%2F",
				Header: http.Header{"Cookie": {s.cookie}, "HX-Request": {"true"}}}
		}},
	}
	for _, m := range measures {
		res := make([]*loadgen.Result, len(sites))
		for range turns {
			for i, s := range sites {
				r := loadgen.Run(context.Background(), loadgen.Config{Targets: []loadgen.Target{m.target(s)}, Concurrency: workers, Duration: d / turns})[0]
				if res[i] == nil {
					res[i] = r
				} else {
					res[i].Merge(r)
				}
			}
		}
		for _, r := range res {
			if r.Errors > 0 || len(r.Unexpected) > 0 {
				return fmt.Errorf("%s on %s: %s", m.name, r.Target, r)
			}
			fmt.Printf("%-6s %s\n", m.name, r)
		}
		fmt.Printf("%-6s postgres/sqlite: throughput %.2fx, p50 %.2fx, p99 %.2fx\n\n", m.name,
			res[1].RPS()/res[0].RPS(), ratio(res[1].Percentile(0.5), res[0].Percentile(0.5)), ratio(res[1].Percentile(0.99), res[0].Percentile(0.99)))
	}
	return nil
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

// signIn signs a visitor in and adds to their cart; it returns their
// session cookie.
func signIn(base string) (string, error) {
	post := func(path, form, cookie string) (*http.Response, error) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		return res, err
	}
	res, err := post("/actions/sign-in", "name=Bench", "")
	if err != nil {
		return "", err
	}
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == "atoll_session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if cookie == "" {
		return "", fmt.Errorf("sign-in set no session cookie (%d)", res.StatusCode)
	}
	if res, err := post("/actions/cart/add", "product=reef-mug&qty=2", cookie); err != nil || res.StatusCode != 200 {
		return "", fmt.Errorf("add to cart: %v", err)
	}
	return cookie, nil
}
