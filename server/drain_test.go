package server_test

import (
	"strings"
	"testing"
)

// TestDrainTurnsReadinessOffAndClosesConnections: before BeginDrain,
// /readyz is 200 and connections stay open; after it, /readyz is 503,
// every answer closes its connection, and pages are still served.
func TestDrainTurnsReadinessOffAndClosesConnections(t *testing.T) {
	t.Parallel()
	app := inProcess(t)
	if r := get(t, app, "/readyz"); r.StatusCode != 200 || r.Close {
		t.Fatalf("before the drain: /readyz %d, connection close %v", r.StatusCode, r.Close)
	}
	if r := get(t, app, "/livez"); r.StatusCode != 200 {
		t.Fatalf("/livez %d", r.StatusCode)
	}
	app.Server.BeginDrain()
	if r := get(t, app, "/readyz"); r.StatusCode != 503 || !r.Close {
		t.Fatalf("draining: /readyz %d, connection close %v, want 503 and close", r.StatusCode, r.Close)
	}
	if r := get(t, app, "/livez"); r.StatusCode != 200 {
		t.Fatalf("draining: /livez %d, want 200: the process is alive", r.StatusCode)
	}
	if r := get(t, app, "/plain"); r.StatusCode != 200 || !r.Close || !strings.Contains(r.Body, "No islands.") {
		t.Fatalf("draining: /plain %d, close %v: pages are still served, each closing its connection", r.StatusCode, r.Close)
	}
}
