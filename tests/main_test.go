package tests

import (
	"os"
	"sync"
	"testing"

	"github.com/atollhq/atoll/internal/pgtest"
)

// TestMain stops the throwaway PostgreSQL cluster, if a test started one
// (pgtest.Database), and what tests share for the whole run (afterTests),
// after the tests.
func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	stopping.Lock()
	for _, stop := range stopping.funcs {
		stop()
	}
	stopping.Unlock()
	os.Exit(code)
}

var stopping struct {
	sync.Mutex
	funcs []func()
}

// afterTests has stop run once every test has finished.
func afterTests(stop func()) {
	stopping.Lock()
	defer stopping.Unlock()
	stopping.funcs = append(stopping.funcs, stop)
}
