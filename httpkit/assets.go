package httpkit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/static"
)

// staticFile is one embedded static file, served under a name that carries
// a hash of its content, so browsers may cache it forever.
type staticFile struct {
	body        []byte
	contentType string
}

// Assets maps the static files' names to their fingerprinted URLs and back.
type Assets struct {
	urls  map[string]string      // "app.css" → "/static/app.1a2b3c4d.css"
	files map[string]*staticFile // "app.1a2b3c4d.css" → file
}

// LoadAssets reads and fingerprints the embedded static files.
func LoadAssets() (*Assets, error) {
	as := &Assets{urls: map[string]string{}, files: map[string]*staticFile{}}
	err := fs.WalkDir(static.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(static.FS(), p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(p)
		name := strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:])[:8] + ext
		as.urls[p] = "/static/" + name
		as.files[name] = &staticFile{body: body, contentType: ContentType(ext)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("httpkit: static files: %w", err)
	}
	return as, nil
}

// URL is the template function `asset`: the fingerprinted URL of a static
// file. An unknown name is an error, so a typo fails the page loudly.
func (as *Assets) URL(name string) (string, error) {
	u, ok := as.urls[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return u, nil
}

// ContentType is the media type for a file extension, with a charset for text.
func ContentType(ext string) string {
	t := mime.TypeByExtension(strings.ToLower(ext))
	if t == "" {
		return "application/octet-stream"
	}
	if (strings.HasPrefix(t, "text/") || strings.HasSuffix(t, "javascript")) && !strings.Contains(t, "charset") {
		t += "; charset=utf-8"
	}
	return t
}

// Serve is the handler of /static/:name: a fingerprinted static file; an
// old or unknown fingerprint is not found.
func (as *Assets) Serve(c *fiber.Ctx) error {
	f, ok := as.files[c.Params("name")]
	if !ok {
		return ErrNotFound
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderContentType, f.contentType)
	return c.Send(f.body)
}
