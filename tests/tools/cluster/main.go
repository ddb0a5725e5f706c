// Command cluster runs the site as it runs past one machine, on this one:
// two replicas of the server binary sharing a PostgreSQL database, behind
// nginx configured as `atoll nginx` prints it (make cluster).
//
//	cd tests && go run ./tools/cluster [-server bin/server] [-addr 127.0.0.1:8080] [-replicas 2]
//
// PostgreSQL is ATOLL_DB when that is a postgres:// URL, else a throwaway
// cluster started here (initdb and pg_ctl must be installed). The key is
// ATOLL_KEYS, else one from `server -genkey`. Other ATOLL_* variables
// reach the replicas as they are. Ctrl-C (SIGINT) or SIGTERM stops nginx,
// the replicas (each drains first), then PostgreSQL, and removes the
// temporary directories.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/atollhq/atoll/config"
	"github.com/atollhq/atoll/internal/pgtest"
	"github.com/atollhq/atoll/tests/internal/cluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) (err error) {
	flags := flag.NewFlagSet("cluster", flag.ContinueOnError)
	server := flags.String("server", "bin/server", "the server binary (make build writes it)")
	addr := flags.String("addr", "127.0.0.1:8080", "nginx's listen address")
	replicas := flags.Int("replicas", 2, "how many replicas")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *replicas < 1 {
		return errors.New("-replicas: want 1 or more")
	}
	keys := strings.TrimSpace(os.Getenv("ATOLL_KEYS"))
	if keys == "" {
		out, err := exec.Command(*server, "-genkey").Output()
		if err != nil {
			return fmt.Errorf("%s -genkey: %w (run make build first)", *server, err)
		}
		keys = strings.TrimSpace(string(out))
	}

	db := os.Getenv("ATOLL_DB")
	if !strings.HasPrefix(db, "postgres://") && !strings.HasPrefix(db, "postgresql://") {
		fmt.Fprintln(os.Stderr, "cluster: starting PostgreSQL…")
		pg, err := pgtest.Start()
		if err != nil {
			return fmt.Errorf("PostgreSQL: %w", err)
		}
		defer func() {
			if serr := pg.Stop(); serr != nil && err == nil {
				err = serr
			}
		}()
		db = pg.URL
	}

	// The replicas get the ATOLL_* settings of this environment, except
	// the ones the cluster sets for each.
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case !strings.HasPrefix(name, "ATOLL_"), name == "ATOLL_ADDR", name == "ATOLL_DB", name == "ATOLL_KEYS":
		default:
			env = append(env, kv)
		}
	}
	c, err := cluster.Start(cluster.Options{
		Server: *server, DB: db, Keys: keys, Replicas: *replicas,
		Listen: *addr, Env: env, Output: os.Stderr,
	})
	if err != nil {
		return err
	}
	fmt.Printf("Atoll cluster: %s (nginx)\n", c.URL)
	for _, r := range c.Replicas {
		fmt.Printf("  %s %s\n", r.Name, r.URL())
	}
	fmt.Printf("  PostgreSQL %s\n", config.Redact(db))
	fmt.Println("Ctrl-C stops everything.")
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "cluster: stopping nginx, the replicas, then PostgreSQL…")
	return c.Stop()
}
