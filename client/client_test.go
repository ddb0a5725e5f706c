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

func TestLoaderIsSmallAndKeepsItsCodeOnly(t *testing.T) {
	l := string(Loader())
	if len(l) > 4096 {
		t.Errorf("the loader is %d bytes, want at most 4 KiB: every page carries it inline", len(l))
	}
	for _, line := range strings.Split(l, "\n") {
		if strings.HasPrefix(line, "//") || strings.HasPrefix(line, " ") {
			t.Errorf("the loader keeps a comment or indentation: %q", line)
		}
	}
	for _, want := range []string{"islands-batch", "atollRuntime", "getReader", `mode: "cors"`, `credentials: "same-origin"`} {
		if !strings.Contains(l, want) {
			t.Errorf("the loader lost %q", want)
		}
	}
	if strings.Contains(strings.ToLower(l), "</script") {
		t.Error("the loader contains </script and cannot be inlined")
	}
}

func TestRuntimeWaitsForTheLoaderOnlyWhenOneIsThere(t *testing.T) {
	rt := string(Runtime())
	if !strings.HasPrefix(rt, `(function(run){if(typeof window.atollRuntime==="function")window.atollRuntime(run);else run()})(function(){`) {
		t.Errorf("the runtime does not start by asking the loader: %.120q", rt)
	}
	if !strings.Contains(rt, "window.htmx=htmx;") || !strings.HasSuffix(rt, "});\n") {
		t.Error("the runtime does not put htmx on window, or its function is not closed")
	}
}
