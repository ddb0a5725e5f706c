package tests

import (
	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/demo"
	"github.com/atollhq/atoll/server"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/internal/seal"
	"github.com/atollhq/atoll/store"
)

// testConfig is config.Default with a fresh key, as a deployment sets one.
func testConfig() config.Config {
	c := config.Default()
	c.Keys, _ = seal.ParseKeys(seal.GenerateKey())
	return c
}

// testStore opens a SQLite store with the demo's tables in the test's
// temporary directory.
func testStore(t testing.TB) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "atoll.db"), time.Now, demo.Migrations...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// demoWith is the demo site serving files instead of its own.
func demoWith(files fs.FS) server.Site {
	site := atoll.Demo()
	site.Files = files
	return site
}
