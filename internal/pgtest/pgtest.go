// Package pgtest gives tests a real PostgreSQL: a throwaway cluster of
// its own (initdb into a temporary directory, on a free loopback port,
// stopped when the tests end), or the server that ATOLL_TEST_POSTGRES
// names (a postgres:// URL whose user may create databases). Each test
// gets a fresh database.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.Database(t) // postgres://…/t_1?sslmode=disable
//	}
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

var (
	once     sync.Once
	server   *Server
	startErr error
	count    atomic.Int64
)

// Server is a PostgreSQL server the tests may create databases on.
type Server struct {
	// URL connects to its postgres database as a superuser.
	URL string
	dir string
	bin string
	// owned is set when this process started the cluster.
	owned bool
	runAs []string
	opts  string // the server options Start gave pg_ctl
}

// Run runs the tests, then stops the cluster if one was started.
func Run(m *testing.M) int {
	code := m.Run()
	if server != nil && server.owned {
		if err := server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// Shared returns the server, starting a cluster on first use. It fails
// the test, naming what to install, when PostgreSQL is not here.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	once.Do(func() {
		if u := os.Getenv("ATOLL_TEST_POSTGRES"); u != "" {
			server = &Server{URL: u}
			return
		}
		server, startErr = Start()
	})
	if startErr != nil {
		tb.Fatalf("pgtest: %v", startErr)
	}
	return server
}

// Database creates a fresh, empty database for the test and returns its
// URL; it is dropped when the test ends.
func Database(tb testing.TB) string {
	tb.Helper()
	s := Shared(tb)
	name := fmt.Sprintf("atoll_test_%d_%d", os.Getpid(), count.Add(1))
	if err := s.exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database: %v", err)
		}
	})
	u, _ := url.Parse(s.URL)
	u.Path = "/" + name
	return u.String()
}

func (s *Server) exec(stmt string) error {
	db, err := sql.Open("pgx", s.URL)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// Start makes a cluster in a new temporary directory and starts it on a
// free loopback port. As root, the cluster runs as the postgres user,
// since initdb refuses to run as root.
func Start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "atoll-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin, owned: true}
	var runAs []string
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, the cluster must run as the postgres user, and there is none: %w (apt-get install postgresql makes it)", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		runAs = []string{"runuser", "-u", "postgres", "--"}
	}
	data := filepath.Join(dir, "data")
	if out, err := command(runAs, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
	if out, err := command(runAs, filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	s.runAs, s.opts = runAs, opts
	return s, nil
}

// Halt stops a cluster Start made, as an outage would (fast shutdown:
// sessions are ended), keeping its data for Resume.
func (s *Server) Halt() error {
	if !s.owned {
		return errors.New("pgtest: only a cluster this process started can be halted")
	}
	out, err := command(s.runAs, filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// Resume starts a halted cluster again on the same port.
func (s *Server) Resume() error {
	out, err := command(s.runAs, filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-l", filepath.Join(s.dir, "log"),
		"-o", s.opts, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl start: %v\n%s", err, out)
	}
	return nil
}

// Stop stops a cluster Start made and removes its directory.
func (s *Server) Stop() error {
	if !s.owned {
		return nil
	}
	out, err := command(s.runAs, filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop").CombinedOutput()
	os.RemoveAll(s.dir)
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

func command(runAs []string, name string, args ...string) *exec.Cmd {
	if len(runAs) > 0 {
		return exec.Command(runAs[0], append(append(runAs[1:], name), args...)...)
	}
	return exec.Command(name, args...)
}

// binDir finds PostgreSQL's server programs: on PATH, or in Debian's
// versioned directory (the newest).
func binDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL's initdb and pg_ctl are not installed: apt-get install postgresql (or set ATOLL_TEST_POSTGRES to a postgres:// URL)")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
