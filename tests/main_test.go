package tests

import (
	"os"
	"testing"

	"github.com/atollhq/atoll/internal/pgtest"
)

// TestMain stops the throwaway PostgreSQL cluster, if a test started one
// (pgtest.Database), after the tests.
func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
