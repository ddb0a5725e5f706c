// Package cluster runs Atoll the way it runs past one machine, on one:
// replicas of the server binary sharing one PostgreSQL database, each on
// a loopback port of its own, behind nginx configured by
// internal/nginxconf (what `atoll nginx` prints). The cluster test and
// tools/cluster (make cluster) start it.
//
//	c, err := cluster.Start(cluster.Options{
//		Server: "bin/server",
//		DB:     "postgres://…",
//		Keys:   key, // from atoll genkey
//	})
//	if err != nil { … }
//	defer c.Stop()
//	err = c.Replicas[0].Restart(newKey + "," + key) // a rolling restart, one replica
package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/atollhq/atoll/internal/nginxconf"
)

// Options configures a cluster.
type Options struct {
	// Server is the path of the server binary (make build writes
	// bin/server).
	Server string
	// DB is the postgres:// URL every replica opens (ATOLL_DB).
	DB string
	// Keys is the replicas' ATOLL_KEYS when they first start.
	Keys string
	// Replicas is how many replicas run; 2 when zero.
	Replicas int
	// Listen is nginx's address; a free loopback port when empty.
	Listen string
	// Dir holds nginx's configuration, cache and error log; a new
	// temporary directory, removed by Stop, when empty.
	Dir string
	// Env is more environment for every replica, such as
	// ATOLL_DRAIN_DELAY=1s. ATOLL_ADDR, ATOLL_DB and ATOLL_KEYS are the
	// cluster's and cannot be overridden here.
	Env []string
	// Output receives the replicas' logs, each line prefixed with the
	// replica's name; discarded when nil.
	Output io.Writer
}

// Cluster is running replicas behind nginx.
type Cluster struct {
	// URL is nginx's base URL, such as http://127.0.0.1:8080.
	URL      string
	Replicas []*Replica
	Nginx    *Nginx
	dir      string
	ownDir   bool
}

// Start starts the replicas, each on a free loopback port it keeps
// across restarts, waits until each answers /readyz with 200, then starts
// nginx in front of them. On error everything it started is stopped.
func Start(o Options) (c *Cluster, err error) {
	if o.Server == "" || o.DB == "" || o.Keys == "" {
		return nil, errors.New("cluster: Server, DB and Keys are required")
	}
	if _, err := os.Stat(o.Server); err != nil {
		return nil, fmt.Errorf("cluster: server binary: %w (make build writes bin/server)", err)
	}
	nginx, err := NginxPath()
	if err != nil {
		return nil, err
	}
	if o.Replicas == 0 {
		o.Replicas = 2
	}
	if o.Output == nil {
		o.Output = io.Discard
	}
	c = &Cluster{dir: o.Dir}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "atoll-cluster-"); err != nil {
			return nil, err
		}
		c.ownDir = true
	}
	defer func() {
		if err != nil {
			c.Stop()
			c = nil
		}
	}()
	out := &lockedWriter{w: o.Output}
	var upstreams []string
	for i := range o.Replicas {
		addr, err := FreeAddr()
		if err != nil {
			return c, err
		}
		r := &Replica{Name: fmt.Sprintf("replica-%d", i+1), Addr: addr, bin: o.Server, db: o.DB, env: o.Env, out: out}
		c.Replicas = append(c.Replicas, r)
		upstreams = append(upstreams, addr)
	}
	// Concurrently: the first start of each applies (or waits on the
	// advisory lock for) the migrations.
	errs := make(chan error, len(c.Replicas))
	for _, r := range c.Replicas {
		go func() { errs <- r.Start(o.Keys) }()
	}
	for range c.Replicas {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return c, err
	}
	listen := o.Listen
	if listen == "" {
		if listen, err = FreeAddr(); err != nil {
			return c, err
		}
	}
	if c.Nginx, err = StartNginx(nginx, c.dir, listen, upstreams); err != nil {
		return c, err
	}
	c.URL = c.Nginx.URL
	return c, nil
}

// Stop stops nginx, then each replica gracefully (SIGTERM, its drain,
// its shutdown), and removes the directory Start made. It returns the
// first error and still stops everything.
func (c *Cluster) Stop() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if c.Nginx != nil {
		keep(c.Nginx.Stop())
	}
	var wg sync.WaitGroup
	errs := make([]error, len(c.Replicas))
	for i, r := range c.Replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r.Running() {
				errs[i] = r.Stop()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		keep(err)
	}
	if c.ownDir {
		keep(os.RemoveAll(c.dir))
	}
	return first
}

// Replica is one server process, started and stopped on the same
// address, as one machine of a deployment is.
type Replica struct {
	// Name is "replica-1", "replica-2"…; it prefixes the log lines.
	Name string
	// Addr is the replica's host:port, the same across restarts.
	Addr string
	bin  string
	db   string
	env  []string
	out  io.Writer

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	exit   error         // Wait's result, set before done closes
	tail   *tail
	starts int
}

// How long a replica may take to become ready, and to exit after
// SIGTERM (its drain and shutdown deadline included).
const (
	ReadyTimeout = 30 * time.Second
	StopTimeout  = 30 * time.Second
)

// URL is the replica's own base URL, bypassing nginx.
func (r *Replica) URL() string { return "http://" + r.Addr }

// Starts is how many times the replica has been started.
func (r *Replica) Starts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.starts
}

// Running reports whether the replica's process is running.
func (r *Replica) Running() bool {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Start starts the process with ATOLL_KEYS=keys and waits, at most
// ReadyTimeout, until its /readyz answers 200.
func (r *Replica) Start(keys string) error {
	if r.Running() {
		return fmt.Errorf("%s: already running", r.Name)
	}
	cmd := exec.Command(r.bin)
	cmd.Env = append(append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, r.env...),
		"ATOLL_ADDR="+r.Addr, "ATOLL_DB="+r.db, "ATOLL_KEYS="+keys)
	t := &tail{}
	w := &prefixWriter{w: r.out, prefix: r.Name + " ", tail: t}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: start %s: %w", r.Name, r.bin, err)
	}
	done := make(chan struct{})
	r.mu.Lock()
	r.cmd, r.done, r.exit, r.tail = cmd, done, nil, t
	r.starts++
	r.mu.Unlock()
	go func() {
		err := cmd.Wait()
		w.Flush()
		r.mu.Lock()
		r.exit = err
		r.mu.Unlock()
		close(done)
	}()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(ReadyTimeout)
	for i := 0; time.Now().Before(deadline) && i < 10_000; i++ {
		select {
		case <-done:
			return fmt.Errorf("%s exited before it was ready (%v):\n%s", r.Name, r.exitErr(), t)
		default:
		}
		if res, err := client.Get(r.URL() + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.Kill()
	return fmt.Errorf("%s: /readyz did not answer 200 within %s:\n%s", r.Name, ReadyTimeout, t)
}

// Stop sends SIGTERM and waits, at most StopTimeout, for the process to
// exit; an exit status other than 0 is an error. Past the deadline the
// process is killed.
func (r *Replica) Stop() error {
	return r.signal(syscall.SIGTERM, StopTimeout)
}

// Kill sends SIGKILL, as a crash or the OOM killer would, and waits for
// the process to be gone.
func (r *Replica) Kill() error {
	err := r.signal(syscall.SIGKILL, StopTimeout)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil // killed, as asked
	}
	return err
}

// Restart stops the replica gracefully and starts it again on the same
// address with ATOLL_KEYS=keys, waiting until it is ready.
func (r *Replica) Restart(keys string) error {
	if err := r.Stop(); err != nil {
		return err
	}
	return r.Start(keys)
}

func (r *Replica) signal(sig syscall.Signal, timeout time.Duration) error {
	r.mu.Lock()
	cmd, done, t := r.cmd, r.done, r.tail
	r.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("%s: not started", r.Name)
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s: %s: %w", r.Name, sig, err)
	}
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s: still running %s after %s; killed:\n%s", r.Name, timeout, sig, t)
	}
	if err := r.exitErr(); err != nil {
		return fmt.Errorf("%s: exit after %s: %w\n%s", r.Name, sig, err, t)
	}
	return nil
}

func (r *Replica) exitErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.exit
}

// Nginx is a running nginx.
type Nginx struct {
	// URL is its base URL.
	URL string
	// Dir holds its configuration, cache and error.log.
	Dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// NginxPath finds the nginx binary: on PATH, else /usr/sbin/nginx.
func NginxPath() (string, error) { return nginxconf.Path() }

// StartNginx writes the configuration for listen and upstreams, with dir
// as nginx's prefix, to dir/nginx.conf, starts bin on it and waits, at
// most five seconds, until it accepts connections on listen.
func StartNginx(bin, dir, listen string, upstreams []string) (*Nginx, error) {
	var conf bytes.Buffer
	if err := nginxconf.Write(&conf, nginxconf.Config{Listen: listen, Upstreams: upstreams, Dir: dir}); err != nil {
		return nil, err
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	errorLog := filepath.Join(dir, "error.log")
	t := &tail{}
	cmd := exec.Command(bin, "-p", dir, "-c", confPath, "-e", errorLog)
	cmd.Stdout, cmd.Stderr = t, t
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nginx: %w", err)
	}
	n := &Nginx{URL: "http://" + listen, Dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(n.done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; time.Now().Before(deadline) && i < 1000; i++ {
		select {
		case <-n.done:
			log, _ := os.ReadFile(errorLog)
			return nil, fmt.Errorf("nginx exited:\n%s%s", t, log)
		default:
		}
		if c, err := net.DialTimeout("tcp", listen, 100*time.Millisecond); err == nil {
			c.Close()
			return n, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	n.Stop()
	return nil, fmt.Errorf("nginx did not listen on %s within 5s", listen)
}

// ErrorLog returns the contents of nginx's error log.
func (n *Nginx) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "error.log"))
	return string(b)
}

// Stop asks nginx to finish the requests in flight and exit (SIGQUIT),
// and kills it if it has not within five seconds.
func (n *Nginx) Stop() error {
	_ = n.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-n.done:
		return nil
	case <-time.After(5 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
		return errors.New("nginx did not exit within 5s of SIGQUIT; killed")
	}
}

// FreeAddr returns a loopback address with a port nothing listens on.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// lockedWriter serialises writes from several replicas' log copiers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// prefixWriter writes whole lines to w, each after prefix, and keeps the
// last ones in tail for error messages.
type prefixWriter struct {
	w      io.Writer
	prefix string
	tail   *tail
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.tail.Write(b)
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		_, _ = p.w.Write([]byte(p.prefix + string(p.buf[:i+1])))
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

// Flush writes a last line that has no newline.
func (p *prefixWriter) Flush() {
	if len(p.buf) > 0 {
		_, _ = p.w.Write([]byte(p.prefix + string(p.buf) + "\n"))
		p.buf = nil
	}
}

// tail keeps the last tailSize bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 4 << 10

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > tailSize {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-tailSize:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
