// Command atoll is the site author's command for sites on Atoll: it
// starts a site, serves it while you edit, makes keys and writes the
// nginx configuration for replicas.
//
//	go install github.com/atollhq/atoll/cmd/atoll@latest
//	atoll new ../mysite && cd ../mysite && atoll dev
//
// Each command is a package of its own (internal/newsite,
// internal/devloop, internal/nginxconf); this one reads flags and hands
// over.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/atollhq/atoll/internal/devloop"
	"github.com/atollhq/atoll/internal/newsite"
	"github.com/atollhq/atoll/internal/nginxconf"
	"github.com/atollhq/atoll/internal/seal"
)

const usage = `atoll is the command for sites on Atoll.

Usage:

	atoll <command> [flags]

Commands:

	new DIR   write a new site, a Go module of its own, into DIR
	dev       serve the site while you edit it: templates and stylesheets show at once, a Go edit switches to a new server, errors show in the tab
	genkey    print a fresh key for ATOLL_KEYS
	nginx     print the nginx configuration for replicas behind one nginx
	help      print this help, or a command's: atoll help new

"atoll <command> -h" prints a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "atoll:", err)
		os.Exit(1)
	}
}

// errUsage is returned for a command line that was not understood, after
// the reason and the usage are printed.
var errUsage = errors.New("usage")

// run runs the command line args (without the program's name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	name, args := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 0 && args[0] != "help" {
			return run(ctx, []string{args[0], "-h"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	case "new":
		return newSite(ctx, args, stdout, stderr)
	case "dev":
		return dev(ctx, args, stdout, stderr)
	case "genkey":
		return genkey(args, stdout, stderr)
	case "nginx":
		return nginx(args, stdout, stderr)
	}
	fmt.Fprintf(stderr, "atoll: unknown command %q\n\n%s", name, usage)
	return errUsage
}

// flags returns a flag set for a command whose help starts with synopsis
// and description.
func flags(name, synopsis, description string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: atoll %s\n\n%s\n", synopsis, description)
		if strings.Contains(synopsis, "-") {
			fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args, which may hold up to positional arguments among the
// flags (atoll new DIR -module M as well as atoll new -module M DIR).
func parse(fs *flag.FlagSet, args []string, positional int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		if len(pos) == positional {
			fmt.Fprintf(fs.Output(), "atoll %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
			fs.Usage()
			return nil, errUsage
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newSite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("new", "new DIR [-module PATH] [-replace DIR]",
		`Writes a new site into DIR, which must not exist or be empty: a Go module that
requires Atoll, with a page, an island, an action and a test, then runs
go mod tidy in it. The site needs Go alone.

It requires the Atoll version this command was built from. Run from an Atoll
checkout (go run ./cmd/atoll new ...), it requires that checkout instead,
through a replace line in go.mod.`, stderr)
	module := fs.String("module", "", `the site's module path (default "example.com/" and DIR's name)`)
	replace := fs.String("replace", "", "use the Atoll checkout in this directory, through a replace line")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "atoll new: name the directory to write, such as: atoll new ../mysite")
		fs.Usage()
		return errUsage
	}
	src, err := newsite.SourceFor(debug.ReadBuildInfo, *replace, ".")
	if err != nil {
		return err
	}
	return newsite.Create(ctx, newsite.Options{Dir: pos[0], Module: *module, Source: src, Tidy: true}, stdout, stderr)
}

func dev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("dev", "dev [-addr ADDR] [-root DIR] [-pkg PACKAGE]",
		`Serves the site while you edit it, from a proxy on -addr in front of the site's
server (built with the atolldev tag, run with ATOLL_DEV=1 and ATOLL_ROOT):

  - page, layout and island templates are read from disk: an edit reloads the
    open tabs, without a build;
  - a stylesheet under public/ is swapped into the open tabs in place, keeping
    what was typed, the focus and the scroll position;
  - a Go edit builds a new server beside the running one and switches to it
    once it is ready: no request fails; a build or a start that fails leaves
    the old server serving;
  - a compile error, a server that does not start and a template that does not
    render show over the open tab, with the file, line and code, until fixed.

The terminal shows one line per page view, and builds and errors. The server
logs at ATOLL_LOG_LEVEL=warn unless that is set. Without ATOLL_KEYS a server
on SQLite keeps a key beside its database; for one on PostgreSQL this makes a
key for the session. Ctrl-C stops it.`, stderr)
	addr := "127.0.0.1:8080"
	if a := os.Getenv("ATOLL_ADDR"); a != "" {
		addr = a
	}
	fs.StringVar(&addr, "addr", addr, "the address to serve the site on (default ATOLL_ADDR when set)")
	root := fs.String("root", ".", "the site module's root: the code built and watched, and pages/, layouts/ and public/")
	pkg := fs.String("pkg", "./cmd/server", "the server's main package, relative to -root")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	d := &devloop.Dev{Addr: addr, Root: *root, Pkg: *pkg, Env: os.Environ(), Out: stdout, Err: stderr}
	return d.Run(ctx)
}

func genkey(args []string, stdout, stderr io.Writer) error {
	fs := flags("genkey", "genkey", `Prints a fresh random key for ATOLL_KEYS. Keys are comma-separated, the first
sealing new island URLs: to rotate, put a new key first and keep the old one
after it until the pages that carry its URLs have expired.`, stderr)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	// The key server.GenerateKey makes, from seal directly, so that this
	// command builds without the store and Fiber.
	_, err := fmt.Fprintln(stdout, seal.GenerateKey())
	return err
}

func nginx(args []string, stdout, stderr io.Writer) error {
	fs := flags("nginx", "nginx -listen ADDR -upstream ADDR[,ADDR...] [-dir DIR]",
		`Prints the nginx configuration for replicas of the site behind one nginx: the
pages' shells cached and each page's islands filled into the same response
(SSI), islands and actions passed through, and upstream settings that let a
rolling restart drop nothing. Run it with: nginx -p DIR -c FILE. Give the
replicas ATOLL_TRUSTED_PROXIES=<nginx's address> so they send it the shells.`, stderr)
	listen := fs.String("listen", "", "nginx's listen address, such as :80 or 127.0.0.1:8080")
	upstream := fs.String("upstream", "", "the replicas' addresses, comma-separated, such as 10.0.0.1:8080,10.0.0.2:8080")
	dir := fs.String("dir", ".", "nginx's prefix directory: pid file, error log, temporary files and cache")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if *listen == "" || *upstream == "" {
		fmt.Fprintln(stderr, "atoll nginx: -listen and -upstream are required")
		fs.Usage()
		return errUsage
	}
	var ups []string
	for _, u := range strings.Split(*upstream, ",") {
		if u = strings.TrimSpace(u); u != "" {
			ups = append(ups, u)
		}
	}
	return nginxconf.Write(stdout, nginxconf.Config{Listen: *listen, Upstreams: ups, Dir: *dir})
}
