// Command scalebench measures how the engine's startup grows with a site:
// for sites of 10, 1,000 and 10,000 generated pages (each one short
// paragraph and one island, on the demo's layout) it reports the time
// until /readyz answers 200, the server's resident memory once ready and
// at its peak, and the latency of the first request for a page and for an
// island. It prints a markdown table.
//
//	go run ./tools/scalebench [-sizes 10,1000,10000]
//
// Each site is a copy of the demo's files (run from tests/, beside the
// engine's root) plus the generated pages, in a temporary directory. The
// server runs as a child process, this same program with -serve, so its
// memory is its own: VmRSS and VmHWM come from /proc/PID/status (Linux).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/server"
)

func main() {
	serve := flag.String("serve", "", "serve the site in this directory (used by the child process)")
	sizes := flag.String("sizes", "10,1000,10000", "comma-separated numbers of generated pages")
	root := flag.String("root", "..", "the engine's root, whose pages/, layouts/, public/ and fragments/ are copied")
	flag.Parse()
	if *serve != "" {
		site := atoll.Demo()
		site.Files = os.DirFS(*serve)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := server.Command(ctx, site, nil, os.LookupEnv, os.Stdout, os.Stderr); err != nil {
			fail(err)
		}
		return
	}
	fmt.Println("| pages | ready | RSS after ready | peak RSS (VmHWM) | first page request (br) | first island request |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fail(fmt.Errorf("sizes: %q: %w", s, err))
		}
		r, err := measure(*root, n)
		if err != nil {
			fail(fmt.Errorf("%d pages: %w", n, err))
		}
		fmt.Printf("| %d | %.2f s | %.0f MiB | %.0f MiB | %.1f ms | %.1f ms |\n", n, r.ready.Seconds(), r.rss, r.peak, ms(r.page), ms(r.island))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "scalebench:", err)
	os.Exit(1)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// result is one site's figures.
type result struct {
	ready        time.Duration
	rss, peak    float64 // MiB
	page, island time.Duration
}

// measure generates a site of n extra pages, starts it and measures it.
func measure(root string, n int) (result, error) {
	var r result
	dir, err := os.MkdirTemp("", "atoll-scale-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	site := filepath.Join(dir, "site")
	if err := generate(root, site, n); err != nil {
		return r, fmt.Errorf("generate: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return r, err
	}
	self, err := os.Executable()
	if err != nil {
		return r, err
	}
	cmd := exec.Command(self, "-serve", site)
	cmd.Env = append(os.Environ(), "ATOLL_ADDR="+addr, "ATOLL_KEYS="+seal.GenerateKey(),
		"ATOLL_DB="+filepath.Join(dir, "atoll.db"), "ATOLL_LOG_LEVEL=warn", "ATOLL_DEV=0")
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	base := "http://" + addr
	for {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > 10*time.Minute {
			return r, fmt.Errorf("not ready after %s", time.Since(start))
		}
		time.Sleep(5 * time.Millisecond) // polling a child process, not a test's synchronisation
	}
	r.ready = time.Since(start)
	if r.rss, r.peak, err = memory(cmd.Process.Pid); err != nil {
		return r, err
	}
	page := fmt.Sprintf("/gen/%05d", n/2)
	body, d, err := get(base+page, "br")
	if err != nil {
		return r, err
	}
	r.page = d
	// The island's URL is in the placeholder the page carries; ask for
	// it uncompressed to read it.
	body, _, err = get(base+page, "identity")
	if err != nil {
		return r, err
	}
	m := regexp.MustCompile(`hx-get="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		return r, fmt.Errorf("%s places no island", page)
	}
	if _, r.island, err = get(base+html.UnescapeString(string(m[1])), "br"); err != nil {
		return r, err
	}
	return r, nil
}

// get fetches url accepting enc and returns the body and how long the
// request took, up to its last byte.
func get(url, enc string) ([]byte, time.Duration, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept-Encoding", enc)
	start := time.Now()
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	d := time.Since(start)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return b, d, err
}

// memory reads a process's resident memory now and at its peak, in MiB.
func memory(pid int) (rss, peak float64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch k {
		case "VmRSS":
			rss = kb / 1024
		case "VmHWM":
			peak = kb / 1024
		}
	}
	return rss, peak, sc.Err()
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// generate copies the demo's site files from root into dir and adds n
// pages under pages/gen/.
func generate(root, dir string, n int) error {
	for _, sub := range []string{"pages", "layouts", "public", "fragments"} {
		src := filepath.Join(root, sub)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(dir, rel), 0o755)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
		})
		if err != nil {
			return err
		}
	}
	gen := filepath.Join(dir, "pages", "gen")
	if err := os.MkdirAll(gen, 0o755); err != nil {
		return err
	}
	for i := range n {
		page := fmt.Sprintf("{{/*\ntitle: Page %d · Atoll\nislands: separate\n*/}}\n"+
			"<section class=\"section\">\n  <h1>Page %d</h1>\n  <p>Generated page %d of %d: one paragraph and one island.</p>\n"+
			"  {{ island \"server-info\" (props \"n\" \"%d\") }}\n</section>\n", i, i, i, n, i)
		if err := os.WriteFile(filepath.Join(gen, fmt.Sprintf("%05d.html", i)), []byte(page), 0o644); err != nil {
			return err
		}
	}
	return nil
}
