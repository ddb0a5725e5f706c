// Package assets serves the files under public/ from memory at
// fingerprinted URLs (/public/css/site.3f2a9c1b07.css), so they can be
// cached for a year and still change when their content does.
package assets

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/atollhq/atoll/internal/compress"
	"github.com/atollhq/atoll/internal/httpcache"
)

// Prefix is the URL path under which assets are served, after the site's
// base path.
const Prefix = "/public/"

type file struct {
	variants    *compress.Variants
	contentType string
	inline      template.HTML // the file as an inline element (Inline)
	inlineErr   error         // why it cannot be inlined
}

// Assets maps logical names (css/site.css) to fingerprinted URLs and URLs
// to file contents.
type Assets struct {
	// dev serves every file uncompressed and "no-store" (LoadDev).
	dev   bool
	urls  map[string]string // logical name -> URL
	files map[string]*file  // URL path -> file
	// hashes are the CSP sources ('sha256-…') of every script and
	// stylesheet, by extension, so a page may inline any of them.
	hashes map[string][]string
}

// Load reads every file under dir in fsys, to be served under urlPrefix
// (Prefix, behind the site's base path), and adds the engine's own files
// (builtin, by logical name). A site file with the name of a builtin one
// is an error.
func Load(fsys fs.FS, dir, urlPrefix string, builtin map[string][]byte) (*Assets, error) {
	return load(fsys, dir, urlPrefix, builtin, false)
}

// LoadDev is Load for dev mode: nothing is compressed ahead of time and
// every response says "no-store", so a file read again after an edit
// shows at once.
func LoadDev(fsys fs.FS, dir, urlPrefix string, builtin map[string][]byte) (*Assets, error) {
	return load(fsys, dir, urlPrefix, builtin, true)
}

func load(fsys fs.FS, dir, urlPrefix string, builtin map[string][]byte, dev bool) (*Assets, error) {
	a := &Assets{dev: dev, urls: map[string]string{}, files: map[string]*file{}, hashes: map[string][]string{}}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		name := strings.TrimPrefix(p, dir+"/")
		if _, ok := builtin[name]; ok {
			return fmt.Errorf("%s: the name %s is the engine's own: rename the file", p, name)
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		a.add(name, body, urlPrefix)
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("assets: read %s: %w", dir, err)
	}
	for name, body := range builtin {
		a.add(name, body, urlPrefix)
	}
	for _, h := range a.hashes {
		sort.Strings(h)
	}
	return a, nil
}

// add makes one file servable under its fingerprinted URL.
func (a *Assets) add(name string, body []byte, urlPrefix string) {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])[:10]
	ext := path.Ext(name)
	url := urlPrefix + strings.TrimSuffix(name, ext) + "." + hash + ext
	ct := mime.TypeByExtension(ext)
	if ct == "" {
		ct = "application/octet-stream"
	}
	a.urls[name] = url
	variants := compress.Plain
	if !a.dev {
		variants = compress.NewVariants
	}
	f := &file{variants: variants(body, `"`+hash+`"`), contentType: ct}
	f.inline, f.inlineErr = inlineElement(ext, body)
	a.files[url] = f
	if ext == ".js" || ext == ".css" {
		a.hashes[ext] = append(a.hashes[ext], "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
}

// URL returns the fingerprinted URL of a logical name such as
// "css/site.css". Templates call it as {{ asset "css/site.css" }}; an
// unknown name is an error, so a page cannot link a file that is not there.
func (a *Assets) URL(name string) (string, error) {
	u, ok := a.urls[name]
	if !ok {
		return "", fmt.Errorf("asset %q not found under public/", name)
	}
	return u, nil
}

// Inline returns a script (.js) or stylesheet (.css) as an element that
// carries its content, for a page that saves the request: {{ inline
// "css/site.css" }}. The Content-Security-Policy allows it by its
// hash (Hashes), so no 'unsafe-inline' is needed. The element is made
// once, when the file is loaded, since pages rendered per request ask
// for it again.
func (a *Assets) Inline(name string) (template.HTML, error) {
	u, err := a.URL(name)
	if err != nil {
		return "", err
	}
	f := a.files[u]
	if f.inlineErr != nil {
		return "", fmt.Errorf("asset %q: %w", name, f.inlineErr)
	}
	return f.inline, nil
}

// inlineElement wraps a script or stylesheet's content in its element.
func inlineElement(ext string, body []byte) (template.HTML, error) {
	tag := map[string]string{".js": "script", ".css": "style"}[ext]
	if tag == "" {
		return "", errors.New("only .js and .css files can be inlined")
	}
	if bytes.Contains(bytes.ToLower(body), []byte("</"+tag)) {
		return "", fmt.Errorf("it contains </%s and cannot be inlined", tag)
	}
	return template.HTML("<" + tag + ">" + string(body) + "</" + tag + ">"), nil
}

// Hashes returns the CSP hash sources of every asset with extension ext
// (".js" or ".css"), sorted.
func (a *Assets) Hashes(ext string) []string { return a.hashes[ext] }

// Handle serves one fingerprinted asset, compressed ahead of time with
// brotli or gzip when the client accepts it ("Vary: Accept-Encoding");
// any other path under Prefix, traversal attempts included, is a 404.
func (a *Assets) Handle(c *fiber.Ctx) error {
	f, ok := a.files[c.Path()]
	if !ok {
		return fiber.ErrNotFound
	}
	body, enc, etag := f.variants.Pick(c.Get(fiber.HeaderAcceptEncoding))
	c.Set(fiber.HeaderContentType, f.contentType)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if a.dev {
		httpcache.NoStore(c)
		return c.Send(body)
	}
	if httpcache.Immutable(c, etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	if enc != compress.Identity {
		c.Set(fiber.HeaderContentEncoding, enc)
	}
	return c.Send(body)
}
