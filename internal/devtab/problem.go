// Package devtab is what a dev tab shows: the script a dev page loads
// (it reloads the tab, swaps stylesheets in place and shows errors over
// the page), the overlay's stylesheet, and the Problem the overlay shows,
// made from a compiler's output, a server's startup failure or a template
// error. The dev server (server/devreload.go, atolldev builds only) and
// atoll dev's proxy (internal/devloop) both serve the same two files.
package devtab

import (
	_ "embed"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Script is the tab's dev script, served at {base}/_atoll/dev.js.
//
//go:embed dev.js
var Script string

// Stylesheet styles the overlay, served at {base}/_atoll/dev.css: a file
// of the site's own origin, so style-src 'self' allows it.
//
//go:embed dev.css
var Stylesheet string

// Kinds of problem.
const (
	KindBuild    = "build"    // the Go build failed
	KindStartup  = "startup"  // the new server stopped before it was ready
	KindTemplate = "template" // a page, layout or island template does not render
)

// Problem is one error as the overlay shows it: where, a few lines
// around it, and the message.
type Problem struct {
	Kind    string `json:"kind"`
	Title   string `json:"title"`
	File    string `json:"file,omitempty"` // relative to the site's root, slash-separated
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
	// Frame is the lines around Line, Line among them.
	Frame []FrameLine `json:"frame,omitempty"`
	// More are the other errors of the same build, as the compiler wrote them.
	More []string `json:"more,omitempty"`
	// Output is the text the problem came from (a server's last lines).
	Output string `json:"output,omitempty"`
}

// FrameLine is one line of a code frame.
type FrameLine struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

// compileLine matches the compiler's "file.go:12:5: message".
var compileLine = regexp.MustCompile(`^(\S+?\.go):(\d+)(?::(\d+))?: (.*)$`)

// ParseBuild turns go build's output into a Problem: the first error with
// its place and frame, the others listed. root is the directory the build
// ran in.
func ParseBuild(root, output string) Problem {
	p := Problem{Kind: KindBuild, Title: "The Go build failed", Output: strings.TrimSpace(output)}
	for _, l := range strings.Split(output, "\n") {
		m := compileLine.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		if p.File == "" {
			p.File = relative(root, m[1])
			p.Line, _ = strconv.Atoi(m[2])
			p.Column, _ = strconv.Atoi(m[3])
			p.Message = m[4]
			continue
		}
		p.More = append(p.More, relative(root, m[1])+":"+m[2]+cond(m[3] != "", ":"+m[3], "")+": "+m[4])
	}
	if p.File == "" {
		p.Message = p.Output
	}
	p.Frame = frame(root, p.File, p.Line)
	return p
}

// place matches a file and line in a message: "pages/about.html:12: …",
// "fragments/cart.html:3:7: …" or a stack trace's "/abs/path/x.go:40 +0x1d".
var place = regexp.MustCompile(`([\w./@+-]*[\w-]\.(?:go|html|css|js|tmpl|sql)):(\d+)(?::(\d+))?`)

// Locate makes a Problem of a message that names a file and line of the
// site, such as a template error or a server's startup failure. A
// template error wraps the error of what it called, so its last place
// under root is the cause ("pages/index.html:8: … island "greeting":
// fragments/greeting.html:2: …"); a stack trace lists the innermost call
// first, so for other kinds the first place under root is.
func Locate(root, kind, title, message string) Problem {
	p := Problem{Kind: kind, Title: title, Message: strings.TrimSpace(message)}
	for _, m := range place.FindAllStringSubmatch(message, -1) {
		file := relative(root, m[1])
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(file))); err != nil {
			continue
		}
		p.File = file
		p.Line, _ = strconv.Atoi(m[2])
		p.Column, _ = strconv.Atoi(m[3])
		if kind != KindTemplate {
			break
		}
	}
	p.Frame = frame(root, p.File, p.Line)
	return p
}

// frameLines is how many lines a frame shows on each side of the error.
const frameLines = 3

// frame reads the lines around line of file under root.
func frame(root, file string, line int) []FrameLine {
	if file == "" || line <= 0 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
	if err != nil {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	var out []FrameLine
	for n := max(1, line-frameLines); n <= min(len(lines), line+frameLines); n++ {
		out = append(out, FrameLine{N: n, Text: strings.TrimRight(lines[n-1], "\r")})
	}
	return out
}

// relative names file relative to root when it is under it.
func relative(root, file string) string {
	file = strings.TrimPrefix(file, "./")
	if filepath.IsAbs(file) {
		if r, err := filepath.Rel(root, file); err == nil && !strings.HasPrefix(r, "..") {
			file = r
		}
	}
	return filepath.ToSlash(file)
}

func cond(ok bool, a, b string) string {
	if ok {
		return a
	}
	return b
}
