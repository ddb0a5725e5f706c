//go:build !race

package tests

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/atollhq/atoll/demo"
	"github.com/atollhq/atoll/internal/pgtest"
	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/store"
)

// clusterActionTimeout is the replicas' action deadline in the
// exactly-once test: short, so that a frozen database shows in seconds.
const clusterActionTimeout = 2 * time.Second

// TestClusterActionsApplyOnce runs keyed actions, as the client sends
// them (client/atoll.js: an Idempotency-Key per submission, the same key
// again after an answer that is not definitive), through nginx to two
// replicas on a PostgreSQL of the test's own, and proves three things:
//
//   - kill -9 of a replica, six rounds, each replica in turn: no action
//     fails (nginx sends a keyed POST the dead replica took to the other
//     one, which runs it or, if the dead one had committed it, replays
//     its answer);
//   - PostgreSQL frozen (SIGSTOP of every process of it): no action
//     answers later than its deadline plus one second, and the retries of
//     the keys it refused succeed once it thaws;
//   - a rolling restart that rotates the sealing key: no action fails.
//
// Then, key by key, the database: every add was sent for one product of
// one session with a quantity of its own, so each cart line must hold
// exactly the quantity its one add sent (twice that is an add applied
// twice), and every acknowledged key has its recorded answer.
func TestClusterActionsApplyOnce(t *testing.T) {
	t.Parallel()
	start := time.Now()
	pg, err := pgtest.Start() // its own: the test freezes it
	if err != nil {
		t.Fatalf("the cluster test needs PostgreSQL: %v", err)
	}
	var thaw func()
	t.Cleanup(func() {
		if thaw != nil {
			thaw()
		}
		if err := pg.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	})
	st, err := store.OpenPostgres(context.Background(), pg.URL, time.Now, demo.Migrations...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keyA, keyB := seal.GenerateKey(), seal.GenerateKey()
	env := append(append([]string{}, clusterEnv...), "ATOLL_ACTION_TIMEOUT="+clusterActionTimeout.String())
	c := startClusterOn(t, keyA, pg.URL, env)

	l := startCartLoad(c.URL, 4)
	t.Cleanup(l.stop)
	l.waitAcked(t, 40)

	// kill -9, six rounds.
	for round := range 6 {
		r := c.Replicas[round%2]
		if err := r.Kill(); err != nil {
			t.Fatalf("round %d: kill -9 %s: %v", round, r.Name, err)
		}
		l.waitAcked(t, 20) // on the other replica
		if err := r.Start(keyA); err != nil {
			t.Fatalf("round %d: start %s again: %v", round, r.Name, err)
		}
		l.waitAcked(t, 20)
	}
	closed := 0 // requests nginx had under way on a replica as it died
	for _, line := range strings.Split(c.Nginx.ErrorLog(), "\n") {
		if strings.Contains(line, "prematurely closed") || strings.Contains(line, "reset by peer") {
			closed++
		}
	}

	// PostgreSQL frozen until every worker has had two actions answered
	// while it was.
	l.enter(t, cartFreezing)
	thaw = freezePostgres(t, st.DB())
	t.Cleanup(thaw) // first of the cleanups, should the test end while it is frozen
	frozenAt := time.Now()
	l.enter(t, cartFrozen) // what began before the freeze has ended
	l.waitAnswered(t, cartFrozen, 2)
	thaw()
	frozenFor := time.Since(frozenAt)
	l.enter(t, cartRecovered)
	l.waitAcked(t, 40)

	// A rolling restart that rotates the key from A to B.
	l.enter(t, cartRolling)
	for _, keys := range []string{keyA + "," + keyB, keyB + "," + keyA, keyB} {
		for _, r := range c.Replicas {
			if err := r.Restart(keys); err != nil {
				t.Fatalf("restart %s: %v", r.Name, err)
			}
			l.waitAcked(t, 10)
		}
	}
	l.stop()
	killed, freezing, frozen, rolling := l.tally(cartKilled), l.tally(cartFreezing), l.tally(cartFrozen), l.tally(cartRolling)
	frozen.slowest = max(frozen.slowest, freezing.slowest)

	t.Logf("kill -9, 6 rounds: %s; nginx saw %d connections closed or reset under a request", killed, closed)
	t.Logf("PostgreSQL frozen %s: %s begun while it was, %s begun just before; slowest answer %s (deadline %s)",
		frozenFor.Round(100*time.Millisecond), frozen, freezing, frozen.slowest.Round(time.Millisecond), clusterActionTimeout)
	t.Logf("after PostgreSQL thawed: %s", l.tally(cartRecovered))
	t.Logf("rolling restart with key rotation, 6 restarts: %s", rolling)
	for _, f := range l.failureLog() {
		t.Log("load:", f)
	}
	if killed.failed != 0 || rolling.failed != 0 {
		t.Errorf("%d action requests failed around kill -9 and %d during the rolling restart, want 0", killed.failed, rolling.failed)
	}
	if frozen.sent < 8 {
		t.Errorf("only %d actions were sent while PostgreSQL was frozen", frozen.sent)
	}
	if limit := clusterActionTimeout + time.Second; frozen.slowest > limit {
		t.Errorf("an action answered %s after it was sent while PostgreSQL was frozen, want at most %s", frozen.slowest, limit)
	}
	if killed.sent < 200 || rolling.sent < 60 {
		t.Errorf("the load sent too little to prove anything: %d then %d actions", killed.sent, rolling.sent)
	}

	// Key by key.
	sessions, adds, acked, doubled, lost, unsure := l.check(t, st.DB())
	t.Logf("database: %d sessions, %d adds (%d acknowledged): %d applied twice, %d acknowledged but missing, %d given up and not applied; test took %s",
		sessions, adds, acked, doubled, lost, unsure, time.Since(start).Round(100*time.Millisecond))
	if doubled != 0 || lost != 0 || acked != adds {
		t.Errorf("%d adds applied twice, %d acknowledged adds missing, %d of %d adds never acknowledged: want 0, 0, all", doubled, lost, adds-acked, adds)
	}
}

// The cart load's cartPhases.
const (
	cartKilled   int32 = iota
	cartFreezing       // begun just before PostgreSQL froze
	cartFrozen
	cartRecovered
	cartRolling
	cartPhases
)

var cartPhaseNames = [cartPhases]string{"kill -9", "freezing", "frozen", "recovered", "rolling restart"}

// cartLoad is a few workers, each in cycles: sign in, then add each
// product once with a quantity of its own, every request keyed and sent
// again with the same key after an answer that is not definitive (no
// answer, 5xx, 409), as the client does, at most maxAttempts times.
type cartLoad struct {
	client *http.Client
	front  string
	phase  atomic.Int32
	quit   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	acked  atomic.Int64
	// answered counts, by phase and worker, the requests that got an
	// answer.
	answered [cartPhases][]atomic.Int64
	// inFlight counts the requests under way by the phase they began in.
	inFlight [cartPhases]atomic.Int64

	mu       sync.Mutex
	sessions []*cartSession
	keys     []string // every acknowledged key
	tallies  [cartPhases]cartTally
	failures []string
}

type cartSession struct {
	id   string
	adds []cartAdd
}

type cartAdd struct {
	key, product string
	qty          int
	acked        bool
}

type cartTally struct {
	sent, failed int64
	// replayed answers are ones a replica recorded for an earlier
	// attempt: through nginx, mostly one the killed replica committed.
	replayed int64
	slowest  time.Duration
}

func (t cartTally) String() string {
	return fmt.Sprintf("%d action requests, %d failed, %d answered with a replay", t.sent, t.failed, t.replayed)
}

const maxAttempts = 30

func startCartLoad(front string, workers int) *cartLoad {
	l := &cartLoad{
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * workers}},
		front:  front,
		quit:   make(chan struct{}),
	}
	for p := range l.answered {
		l.answered[p] = make([]atomic.Int64, workers)
	}
	for w := range workers {
		l.wg.Add(1)
		go l.worker(w)
	}
	return l
}

func (l *cartLoad) stop() {
	l.once.Do(func() { close(l.quit) })
	l.wg.Wait()
}

func (l *cartLoad) stopped() bool {
	select {
	case <-l.quit:
		return true
	default:
		return false
	}
}

func (l *cartLoad) worker(w int) {
	defer l.wg.Done()
	deadline := time.Now().Add(5 * time.Minute)
	for cycle := 0; cycle < maxCycles && time.Now().Before(deadline) && !l.stopped(); cycle++ {
		name := fmt.Sprintf("ct%d-%d", w, cycle)
		in, ok := l.send(w, "/actions/sign-in", "", newKey(name+"-in"), url.Values{"name": {name}})
		cookie := setCookie(in.header)
		if !ok || cookie == "" {
			continue
		}
		sess := &cartSession{id: cookie}
		for _, p := range demo.Products {
			n, _ := rand.Int(rand.Reader, big.NewInt(10))
			add := cartAdd{key: newKey(name + "-" + p.ID), product: p.ID, qty: 1 + int(n.Int64())}
			_, add.acked = l.send(w, "/actions/cart/add", cookie, add.key, url.Values{"product": {p.ID}, "qty": {strconv.Itoa(add.qty)}})
			sess.adds = append(sess.adds, add)
		}
		l.mu.Lock()
		l.sessions = append(l.sessions, sess)
		l.mu.Unlock()
	}
}

// newKey is an Idempotency-Key: a readable prefix and 64 random bits.
func newKey(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return "ct-" + prefix + "-" + hex.EncodeToString(b)
}

// send sends one keyed action until it gets a definitive answer; ok when
// that answer is a success. Every attempt is counted in the phase it
// began in; one that got no answer, or a status of 400 or more, failed.
func (l *cartLoad) send(w int, path, cookie, key string, form url.Values) (a answer, ok bool) {
	for range maxAttempts {
		time.Sleep(loadPace)
		phase := l.begin()
		began := time.Now()
		a = sendKeyed(l.client, l.front+path, cookie, key, form)
		took := time.Since(began)
		l.inFlight[phase].Add(-1)
		if a.err == nil {
			l.answered[phase][w].Add(1)
		}
		failed := a.err != nil || a.status >= 400
		l.mu.Lock()
		t := &l.tallies[phase]
		t.sent++
		t.slowest = max(t.slowest, took)
		if a.err == nil && a.header.Get("Idempotent-Replayed") == "true" {
			t.replayed++
		}
		if failed {
			t.failed++
			if len(l.failures) < 30 {
				l.failures = append(l.failures, fmt.Sprintf("%s: POST %s key %s: %d %v after %s %.100q", cartPhaseNames[phase], path, key, a.status, a.err, took.Round(time.Millisecond), a.body))
			}
		}
		l.mu.Unlock()
		if a.err == nil && a.status < 500 && a.status != http.StatusConflict {
			if a.status < 400 {
				l.mu.Lock()
				l.keys = append(l.keys, key)
				l.mu.Unlock()
				if path == "/actions/cart/add" {
					l.acked.Add(1)
				}
			}
			return a, a.status < 400
		}
	}
	return a, false
}

// sendKeyed posts form with an Idempotency-Key and an optional session
// cookie, as a same-origin form.
func sendKeyed(c *http.Client, u, cookie, key string, form url.Values) answer {
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Idempotency-Key", key)
	if cookie != "" {
		req.Header.Set("Cookie", store.SessionCookie+"="+cookie)
	}
	res, err := c.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: string(b), err: err}
}

// begin counts a request under way in the current phase and returns the
// phase.
func (l *cartLoad) begin() int32 {
	for {
		phase := l.phase.Load()
		l.inFlight[phase].Add(1)
		if l.phase.Load() == phase {
			return phase
		}
		l.inFlight[phase].Add(-1) // the phase changed meanwhile: count it in the new one
	}
}

// enter starts a new phase once every request of the one before has
// ended, so that each request is counted in the phase it ran in.
func (l *cartLoad) enter(t *testing.T, phase int32) {
	t.Helper()
	before := l.phase.Swap(phase)
	eventually(t, 15*time.Second, "the requests under way to end", func() bool { return l.inFlight[before].Load() == 0 })
}

// waitAcked waits until n more adds have been acknowledged.
func (l *cartLoad) waitAcked(t *testing.T, n int64) {
	t.Helper()
	from := l.acked.Load()
	eventually(t, 30*time.Second, fmt.Sprintf("%d more acknowledged adds", n), func() bool { return l.acked.Load() >= from+n })
}

// waitAnswered waits until every worker has had n more requests of phase
// answered.
func (l *cartLoad) waitAnswered(t *testing.T, phase int32, n int64) {
	t.Helper()
	from := make([]int64, len(l.answered[phase]))
	for w := range from {
		from[w] = l.answered[phase][w].Load()
	}
	eventually(t, 30*time.Second, fmt.Sprintf("every worker to have %d answers while %s", n, cartPhaseNames[phase]), func() bool {
		for w := range from {
			if l.answered[phase][w].Load() < from[w]+n {
				return false
			}
		}
		return true
	})
}

func (l *cartLoad) tally(phase int32) cartTally {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tallies[phase]
}

func (l *cartLoad) failureLog() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.failures...)
}

// check compares every session's cart in the database with the adds sent
// for it, key by key, and every acknowledged key with its recorded
// answer.
func (l *cartLoad) check(t *testing.T, db *sql.DB) (sessions, adds, acked, doubled, lost, unsure int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.sessions {
		rows, err := db.Query(`SELECT product_id, qty FROM cart_lines WHERE session_id = $1`, s.id)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for rows.Next() {
			var p string
			var q int
			if err := rows.Scan(&p, &q); err != nil {
				t.Fatal(err)
			}
			got[p] = q
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		sessions++
		for _, a := range s.adds {
			adds++
			q := got[a.product]
			delete(got, a.product)
			switch {
			case a.acked:
				acked++
				if q > a.qty {
					doubled++
					t.Errorf("key %s: %s holds %d, its add sent %d", a.key, a.product, q, a.qty)
				} else if q != a.qty {
					lost++
					t.Errorf("key %s: %s holds %d, its acknowledged add sent %d", a.key, a.product, q, a.qty)
				}
			case q > a.qty:
				doubled++
				t.Errorf("key %s (given up): %s holds %d, its add sent %d", a.key, a.product, q, a.qty)
			case q == 0:
				unsure++
			}
		}
		for p, q := range got {
			t.Errorf("session %.8s…: %d of %s that no add sent", s.id, q, p)
		}
	}
	var recorded int
	if err := db.QueryRow(`SELECT COUNT(*) FROM action_answers WHERE idem_key LIKE 'ct-%' AND status BETWEEN 200 AND 299`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != len(l.keys) {
		t.Errorf("%d answers recorded under the load's keys, want one for each of the %d acknowledged requests", recorded, len(l.keys))
	}
	return sessions, adds, acked, doubled, lost, unsure
}

// freezePostgres stops every process of the PostgreSQL that db is
// connected to with SIGSTOP, as a machine that stalls would: the
// postmaster first, so that it forks no new backend, then its children.
// The returned function sends them SIGCONT, once.
func freezePostgres(t *testing.T, db *sql.DB) (thaw func()) {
	t.Helper()
	var child int
	if err := db.QueryRow(`SELECT pg_backend_pid()`).Scan(&child); err != nil {
		t.Fatal(err)
	}
	postmaster, err := parentPID(child)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(postmaster, syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP the postmaster %d: %v", postmaster, err)
	}
	stopped := []int{postmaster}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, err := parentPID(pid); err == nil && ppid == postmaster {
			if syscall.Kill(pid, syscall.SIGSTOP) == nil {
				stopped = append(stopped, pid)
			}
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			for i := len(stopped) - 1; i >= 0; i-- { // the children, then the postmaster
				_ = syscall.Kill(stopped[i], syscall.SIGCONT)
			}
		})
	}
}

// parentPID reads a process's parent from /proc/PID/stat, whose second
// field (the command) may hold spaces and parentheses.
func parentPID(pid int) (int, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if i < 0 || len(f) < 2 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	return strconv.Atoi(f[1])
}
