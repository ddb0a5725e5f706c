package islands

import (
	"html/template"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/atollhq/atoll/island"
)

// diskTemplate is, in dev mode (Options.Root set), an island's template
// file as it is on disk now: read again whenever its modification time or
// size changes, so an edit shows without a build. Production reads the
// copy embedded at build time and never comes here.
type diskTemplate struct {
	path string
	fi   island.Island
	src  source

	mu   sync.Mutex
	mod  time.Time
	size int64
	tmpl *template.Template
	err  error
}

// onDisk returns the disk template of an island whose template file is
// under root (the site's own islands; an island of another module keeps
// its embedded file), or nil.
func onDisk(root string, fi island.Island, src source) *diskTemplate {
	if root == "" || fi.TemplateFile == "" {
		return nil
	}
	p := filepath.Join(root, filepath.FromSlash(src.file))
	if _, err := os.Stat(p); err != nil {
		return nil
	}
	return &diskTemplate{path: p, fi: fi, src: src}
}

// template is the template as the file now reads, or why it does not
// parse.
func (d *diskTemplate) template() (*template.Template, error) {
	st, err := os.Stat(d.path)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil && (d.tmpl == nil && d.err == nil || !st.ModTime().Equal(d.mod) || st.Size() != d.size) {
		d.mod, d.size = st.ModTime(), st.Size()
		fi := d.fi
		fi.Files = os.DirFS(filepath.Dir(d.path))
		fi.TemplateFile = filepath.Base(d.path)
		d.tmpl, d.err = parseTemplate(fi, d.src)
	}
	return d.tmpl, d.err
}
