package server_test

import (
	"strings"
	"testing"

	"github.com/atollhq/atoll/server"
)

// TestOverlongRequestTargetsAreRefused: refused.go's limitURI answers 414
// for a target past MaxURI, before routing, and serves one just under it.
func TestOverlongRequestTargetsAreRefused(t *testing.T) {
	t.Parallel()
	app := inProcess(t)
	long := "/plain?x=" + strings.Repeat("a", server.MaxURI)
	if r := get(t, app, long); r.StatusCode != 414 {
		t.Fatalf("a %d-byte target: %d, want 414", len(long), r.StatusCode)
	}
	fits := "/plain?x=" + strings.Repeat("a", server.MaxURI-len("/plain?x="))
	if r := get(t, app, fits); r.StatusCode != 200 {
		t.Fatalf("a %d-byte target: %d, want 200", len(fits), r.StatusCode)
	}
}
