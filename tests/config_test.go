package tests

import (
	"path/filepath"
	"testing"
	"time"

	"atoll/config"
	"atoll/internal/seal"
	"atoll/internal/store"
)

// testConfig is config.Default with a fresh key, as a deployment sets one.
func testConfig() config.Config {
	c := config.Default()
	c.Keys, _ = seal.ParseKeys(seal.GenerateKey())
	return c
}

// testStore opens a SQLite store in the test's temporary directory.
func testStore(t testing.TB) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "atoll.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
