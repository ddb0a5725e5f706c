package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		args       []string
		wantErr    error // nil, flag.ErrHelp or errUsage
		wantOut    []string
		wantErrOut []string
	}{
		{"help lists every command", []string{"help"}, nil, []string{"new DIR", "dev ", "genkey ", "nginx ", "help "}, nil},
		{"no command prints the usage", nil, errUsage, nil, []string{"atoll <command>"}},
		{"an unknown command is named", []string{"deploy"}, errUsage, nil, []string{`unknown command "deploy"`, "atoll <command>"}},
		{"help for a command is its -h", []string{"help", "nginx"}, flag.ErrHelp, nil, []string{"usage: atoll nginx -listen", "-upstream"}},
		{"new -h says what it writes", []string{"new", "-h"}, flag.ErrHelp, nil, []string{"usage: atoll new DIR", "-module", "-replace"}},
		{"dev -h names its flags", []string{"dev", "-h"}, flag.ErrHelp, nil, []string{"-addr", "-root", "-pkg", "atolldev"}},
		{"genkey -h", []string{"genkey", "-h"}, flag.ErrHelp, nil, []string{"usage: atoll genkey"}},
		{"new without a directory", []string{"new"}, errUsage, nil, []string{"name the directory"}},
		{"new with two directories", []string{"new", "a", "b"}, errUsage, nil, []string{`unexpected argument "b"`}},
		{"nginx without upstreams", []string{"nginx", "-listen", ":80"}, errUsage, nil, []string{"-listen and -upstream are required"}},
		{"an unknown flag", []string{"genkey", "-x"}, errUsage, nil, []string{"flag provided but not defined: -x"}},
		{"nginx prints the configuration", []string{"nginx", "-listen", "127.0.0.1:8080", "-upstream", "127.0.0.1:9001, 127.0.0.1:9002", "-dir", "/srv/nginx"}, nil,
			[]string{"listen 127.0.0.1:8080;", "server 127.0.0.1:9001 max_fails=1", "server 127.0.0.1:9002 backup max_fails=0;", "pid /srv/nginx/nginx.pid;"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := run(context.Background(), tc.args, &out, &errOut)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("run(%q) = %v, want %v\nstderr: %s", tc.args, err, tc.wantErr, errOut.String())
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, out.String())
				}
			}
			for _, want := range tc.wantErrOut {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
				}
			}
		})
	}
}

func TestGenkeyPrintsAFreshKey(t *testing.T) {
	t.Parallel()
	keys := map[string]bool{}
	for range 2 {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"genkey"}, &out, &out); err != nil {
			t.Fatal(err)
		}
		k := strings.TrimSuffix(out.String(), "\n")
		if b, err := base64.StdEncoding.DecodeString(k); err != nil || len(b) != 32 {
			t.Fatalf("genkey printed %q, want 32 bytes in base64 and a newline (%v)", out.String(), err)
		}
		keys[k] = true
	}
	if len(keys) != 2 {
		t.Error("genkey printed the same key twice")
	}
}

// TestNewRefusesAFullDirectory runs atoll new with its flags after the
// directory, as the usage shows them; internal/newsite's tests write,
// build and serve a site.
func TestNewRefusesAFullDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"new", dir, "-module", "example.com/x"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Fatalf("atoll new into a full directory = %v, want it refused\n%s", err, out.String())
	}
}
