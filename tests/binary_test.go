//go:build !race

package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/seal"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// buildStamp is the build time the test binary carries, as make build
// stamps the commit time: 2026-01-01 00:00 UTC.
const buildStamp = "1767225600"

// serverBinary builds cmd/server once per test run, as `make build` does
// but without the profile (see TestGoInstallAndAtollNewWithGoAlone).
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "atoll-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "server")
		out, err := exec.Command("go", "build", "-pgo=off", "-ldflags", "-X github.com/atollhq/atoll/server.buildStamp="+buildStamp,
			"-o", binPath, "github.com/atollhq/atoll/cmd/server").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build cmd/server: %v", buildErr)
	}
	return binPath
}

var binaryKey = seal.GenerateKey()

// environ is a clean environment holding only PATH, HOME, a key, a
// database in a fresh temporary directory, a short drain and extra, which
// may override any of them.
func environ(t *testing.T, extra ...string) []string {
	db := filepath.Join(t.TempDir(), "atoll.db")
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "ATOLL_KEYS=" + binaryKey, "ATOLL_DB=" + db, "ATOLL_DRAIN_DELAY=100ms"}, extra...)
}

func TestBadConfigurationExitsBeforeListening(t *testing.T) {
	t.Parallel()
	bin := serverBinary(t)
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"a page max-age that is not a duration", []string{"ATOLL_PAGE_MAX_AGE=forever"}, nil, "ATOLL_PAGE_MAX_AGE"},
		{"an island timeout that is not a duration", []string{"ATOLL_ISLAND_TIMEOUT=soon"}, nil, "ATOLL_ISLAND_TIMEOUT"},
		{"an address with no port", []string{"ATOLL_ADDR=localhost"}, nil, "ATOLL_ADDR"},
		{"an unknown log level", []string{"ATOLL_LOG_LEVEL=loud"}, nil, "ATOLL_LOG_LEVEL"},
		{"a dev flag that is not a boolean", []string{"ATOLL_DEV=maybe"}, nil, "ATOLL_DEV"},
		{"an -addr flag with no port", nil, []string{"-addr", "127.0.0.1"}, "ATOLL_ADDR"},
		{"no key with a shared store", []string{"ATOLL_KEYS=", "ATOLL_DB=postgres://atoll@127.0.0.1:1/atoll"}, nil, "atoll genkey"},
		{"a key that is not base64", []string{"ATOLL_KEYS=not a key"}, nil, "ATOLL_KEYS"},
		{"a base path with a trailing slash", []string{"ATOLL_BASE_PATH=/shop/"}, nil, "ATOLL_BASE_PATH"},
		{"a database whose directory cannot be made", []string{"ATOLL_DB=/dev/null/atoll.db"}, nil, "/dev/null/atoll.db"},
		{"a trusted proxy that is not an address", []string{"ATOLL_TRUSTED_PROXIES=proxy.local"}, nil, "ATOLL_TRUSTED_PROXIES"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tc.args...)
			cmd.Env = environ(t, tc.env...)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("exit error %v, want a non-zero exit; output %s", err, out)
			}
			if !strings.Contains(string(out), tc.want) || strings.Contains(string(out), "listening") {
				t.Fatalf("output %q, want a message naming %s and no listening line", out, tc.want)
			}
		})
	}
}

// started runs the binary on a free loopback port and returns its base
// URL once it logs that it is listening, within 20 seconds.
func started(t *testing.T, cmd *exec.Cmd) (url string, logs *bufio.Scanner) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	found := make(chan string, 1)
	go func() {
		defer close(found)
		for sc.Scan() {
			var line struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "listening" {
				found <- line.Addr
				return
			}
			if _, rest, ok := strings.Cut(sc.Text(), " listening "); ok { // dev mode's console format
				if _, addr, ok := strings.Cut(rest, "addr="); ok {
					found <- strings.Fields(addr)[0]
					return
				}
			}
		}
	}()
	select {
	case addr, ok := <-found:
		if !ok {
			t.Fatalf("the server exited without listening")
		}
		return "http://" + addr, sc
	case <-time.After(20 * time.Second):
		t.Fatalf("the server did not log that it is listening within 20s")
	}
	return "", nil
}

func TestGenkeyPrintsAUsableKey(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(serverBinary(t), "-genkey").Output()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := seal.ParseKeys(strings.TrimSpace(string(out)))
	if err != nil || len(keys) != 1 {
		t.Fatalf("-genkey printed %q: %v", out, err)
	}
	again, _ := exec.Command(serverBinary(t), "-genkey").Output()
	if string(again) == string(out) {
		t.Fatal("two -genkey runs printed the same key")
	}
}

func TestDevModeMakesAThrowawayKey(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(serverBinary(t), "-addr", "127.0.0.1:0")
	cmd.Env = environ(t, "ATOLL_KEYS=", "ATOLL_DEV=1", "ATOLL_ROOT=..")
	url, _ := started(t, cmd)
	res, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("dev mode GET /: %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
}

func TestBinaryServesAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(serverBinary(t), "-addr", "127.0.0.1:0")
			cmd.Env = environ(t, "ATOLL_SHUTDOWN_TIMEOUT=5s")
			url, logs := started(t, cmd)
			res, err := http.Get(url + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(body), "Server Islands") {
				t.Fatalf("GET / from the binary: %d", res.StatusCode)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			var rest strings.Builder
			for logs.Scan() {
				rest.WriteString(logs.Text() + "\n")
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit after %s: %v\n%s", sig, err, rest.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10s after %s", sig)
			}
			if !strings.Contains(rest.String(), `"message":"stopped"`) {
				t.Fatalf("no stopped line after %s:\n%s", sig, rest.String())
			}
		})
	}
}
