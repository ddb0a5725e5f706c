package islands

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/atollhq/atoll/island"
)

// source is where an island's template text comes from, so that every
// template error, at startup or at request time, can say where to look.
type source struct {
	// file is the template file's path in the repository
	// ("fragments/user_greeting.html"), or for an inline template the Go
	// file of the Register call ("fragments/weather.go").
	file string
	// line is the Register call's line for an inline template, 0 for a
	// template file.
	line int
}

// sourceOf works out where an island's template lives.
func sourceOf(fi island.Island) source {
	file, line := fi.Source()
	if fi.TemplateFile == "" {
		return source{file: file, line: line}
	}
	if file == "" { // never registered: name the file as Files knows it
		return source{file: fi.TemplateFile}
	}
	return source{file: path.Join(path.Dir(file), fi.TemplateFile)}
}

// templateLoc matches the place text/template and html/template put at the
// front of their errors: "template: NAME:LINE:COL: ", "template: NAME:LINE: "
// or "html/template:NAME:LINE:COL: ", then, for an execution error,
// "executing "NAME" ".
var templateLoc = regexp.MustCompile(`^(?:html/)?template: ?[^:]+?(?::(\d+))?(?::\d+)?: (?:executing "[^"]*" )?`)

// place rewrites a template error to start with its file and line, as a
// compiler's do: "fragments/user_greeting.html:3: …" for a template file,
// "fragments/weather.go:12: template line 3: …" for an inline template.
func (s source) place(err error) error {
	msg := err.Error()
	line := 0
	if m := templateLoc.FindStringSubmatchIndex(msg); m != nil {
		if m[2] >= 0 {
			line, _ = strconv.Atoi(msg[m[2]:m[3]])
		}
		msg = msg[m[1]:]
	}
	var at string
	switch {
	case s.line == 0 && line == 0:
		at = s.file
	case s.line == 0:
		at = s.file + ":" + strconv.Itoa(line)
	case line == 0:
		at = s.file + ":" + strconv.Itoa(s.line) + ": inline template"
	default:
		at = s.file + ":" + strconv.Itoa(s.line) + ": template line " + strconv.Itoa(line)
	}
	return &placedError{msg: at + ": " + msg, err: err}
}

// placedError is a template error with its place in the repository.
type placedError struct {
	msg string
	err error
}

func (e *placedError) Error() string { return e.msg }
func (e *placedError) Unwrap() error { return e.err }

// parseTemplate reads and parses an island's template, and escapes it:
// html/template escapes a template on its first execution, so a template
// it cannot escape would otherwise fail only when a visitor asks for the
// island. Errors name the island, the file and the line.
func parseTemplate(fi island.Island, src source) (*template.Template, error) {
	text := fi.Template
	if fi.TemplateFile != "" {
		b, err := fs.ReadFile(fi.Files, fi.TemplateFile)
		if err != nil {
			return nil, fmt.Errorf("island %q: %s: %w", fi.Name, src.file, err)
		}
		// An editor ends a file with a newline; it is not part of the
		// island, and would end up in every fragment.
		text = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}
	t, err := template.New(fi.Name).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("island %q: %w", fi.Name, src.place(err))
	}
	// Execution errors with no data are expected (a template reads its
	// data); only an escaping error is the template's own fault.
	var escape *template.Error
	if err := t.Execute(io.Discard, nil); errors.As(err, &escape) {
		return nil, fmt.Errorf("island %q: %w", fi.Name, src.place(err))
	}
	return t, nil
}
