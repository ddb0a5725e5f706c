// Package assets serves the files under public/ from memory at
// fingerprinted URLs (/public/css/site.3f2a9c1b07.css), so they can be
// cached for a year and still change when their content does.
package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"atoll/internal/compress"
	"atoll/internal/httpcache"
)

// Prefix is the URL path under which assets are served, after the site's
// base path.
const Prefix = "/public/"

// Required lists the assets the server cannot run without, with the
// command that produces each.
var Required = map[string]string{
	"vendor/bundle.js": "make assets (npm ci, then joins htmx, its SSE extension and client/atoll.js)",
}

type file struct {
	variants    *compress.Variants
	contentType string
}

// Assets maps logical names (css/site.css) to fingerprinted URLs and URLs
// to file contents.
type Assets struct {
	urls  map[string]string // logical name -> URL
	files map[string]*file  // URL path -> file
}

// Load reads every file under dir in fsys, to be served under urlPrefix
// (Prefix, behind the site's base path). It fails when a Required file is
// missing, naming the command that builds it.
func Load(fsys fs.FS, dir, urlPrefix string) (*Assets, error) {
	a := &Assets{urls: map[string]string{}, files: map[string]*file{}}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, dir+"/")
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])[:10]
		ext := path.Ext(name)
		url := urlPrefix + strings.TrimSuffix(name, ext) + "." + hash + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.urls[name] = url
		a.files[url] = &file{variants: compress.NewVariants(body, `"`+hash+`"`), contentType: ct}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("assets: read %s: %w", dir, err)
	}
	var missing []string
	for name, how := range Required {
		if _, ok := a.urls[name]; !ok {
			missing = append(missing, fmt.Sprintf("%s/%s is missing: run %s", dir, name, how))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, errors.New("assets: " + strings.Join(missing, "; "))
	}
	return a, nil
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
	if httpcache.Immutable(c, etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	if enc != compress.Identity {
		c.Set(fiber.HeaderContentEncoding, enc)
	}
	return c.Send(body)
}
