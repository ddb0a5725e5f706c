package tests

import (
	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/demo"
	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/server"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
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

// testIslands are the demo's islands and the islands the tests add, which
// only testSite serves: each file of the tests that needs an island of
// its own registers it here from init, so the demo that other tests
// start serves only the demo's islands.
var testIslands = demoIslands()

// demoIslands returns a set holding a copy of every island the demo
// registers in island.Default (the demo's fragments package is
// initialised before this package).
func demoIslands() *island.Set {
	set := island.NewSet()
	for _, name := range island.Names() {
		i, err := island.Lookup(name)
		if err != nil {
			panic(err)
		}
		set.Register(i) // keeps the place the demo registered it
	}
	return set
}

// testSite is the demo site serving testIslands: its own islands and the
// tests'.
func testSite() server.Site {
	site := atoll.Demo()
	site.Islands = testIslands
	return site
}

// demoWith is the demo site serving files instead of its own.
func demoWith(files fs.FS) server.Site {
	site := atoll.Demo()
	site.Files = files
	return site
}

// siteFiles copies the repository's site files into memory so a test can
// break one of them.
func siteFiles(t testing.TB) fstest.MapFS {
	t.Helper()
	root := os.DirFS("..")
	m := fstest.MapFS{}
	for _, dir := range []string{"pages", "layouts", "public", "fragments"} {
		err := fs.WalkDir(root, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(root, p)
			m[p] = &fstest.MapFile{Data: b}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return m
}
