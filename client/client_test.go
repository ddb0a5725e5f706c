package client

import (
	"strings"
	"testing"
)

func TestRuntimeJoinsHTMXItsSSEExtensionAndAtollsClientInOrder(t *testing.T) {
	rt := string(Runtime())
	parts := []string{htmx, sse, atoll}
	at := 0
	for i, p := range parts {
		head := strings.TrimSpace(p)[:40]
		j := strings.Index(rt[at:], head)
		if j < 0 {
			t.Fatalf("part %d (%q…) is not in the runtime after byte %d", i, head, at)
		}
		at += j + len(head)
	}
	for _, bad := range []string{"sourceMappingURL", "</script"} {
		if strings.Contains(strings.ToLower(rt), strings.ToLower(bad)) {
			t.Errorf("the runtime contains %q, so it cannot be inlined or would ask for a map that is not served", bad)
		}
	}
	if !strings.Contains(htmx, `version:"4.0.1"`) && !strings.Contains(htmx, "4.0.1") {
		t.Errorf("client/htmx.min.js is not htmx 4.0.1, the version package-lock.json pins")
	}
}
