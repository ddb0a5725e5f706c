package action_test

import (
	"os"
	"testing"

	"github.com/atollhq/atoll/internal/pgtest"
)

// TestMain stops the throwaway PostgreSQL the backend tests start.
func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
