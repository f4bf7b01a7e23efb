package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/static"
)

// staticFile is one embedded static file, served under a name that carries
// a hash of its content, so browsers may cache it forever.
type staticFile struct {
	body        []byte
	contentType string
}

// assets maps the static files' names to their fingerprinted URLs and back.
type assets struct {
	urls  map[string]string      // "app.css" → "/static/app.1a2b3c4d.css"
	files map[string]*staticFile // "app.1a2b3c4d.css" → file
}

func loadAssets() (*assets, error) {
	as := &assets{urls: map[string]string{}, files: map[string]*staticFile{}}
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
		as.files[name] = &staticFile{body: body, contentType: contentType(ext)}
		return nil
	})
	return as, err
}

// url is the template function `asset`: the fingerprinted URL of a static
// file. An unknown name is an error, so a typo fails the page loudly.
func (as *assets) url(name string) (string, error) {
	u, ok := as.urls[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return u, nil
}

// contentType is the media type for a file extension, with a charset for text.
func contentType(ext string) string {
	t := mime.TypeByExtension(strings.ToLower(ext))
	if t == "" {
		return "application/octet-stream"
	}
	if (strings.HasPrefix(t, "text/") || strings.HasSuffix(t, "javascript")) && !strings.Contains(t, "charset") {
		t += "; charset=utf-8"
	}
	return t
}

// static serves a fingerprinted static file; an old or unknown fingerprint
// is not found.
func (h *handler) static(c *fiber.Ctx) error {
	f, ok := h.assets.files[c.Params("name")]
	if !ok {
		return errNotFound
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderContentType, f.contentType)
	return c.Send(f.body)
}

// svgPolicy keeps scripts in an SVG from running when the file is opened
// directly.
const svgPolicy = "default-src 'none'; style-src 'unsafe-inline'"

// sendArticleAsset sends a file an article refers to (an image, a PDF).
func sendArticleAsset(c *fiber.Ctx, k *kb.KB, a *kb.Article, key string) error {
	p, ok := k.AssetPath(a, key)
	if !ok {
		return errNotFound
	}
	body, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return errNotFound // removed since the knowledge base was loaded
	}
	if err != nil {
		return fmt.Errorf("web: asset %s: %w", key, err)
	}
	ext := strings.ToLower(path.Ext(key))
	ct := contentType(ext)
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	switch {
	case ext == ".svg":
		c.Set("Content-Security-Policy", svgPolicy)
	case strings.HasPrefix(ct, "image/") || ct == "application/pdf":
	default:
		// Anything else (HTML, scripts, archives) is downloaded, never run
		// as a page of this site.
		c.Set("Content-Security-Policy", "sandbox")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+strings.ReplaceAll(path.Base(key), `"`, "")+`"`)
	}
	return c.Send(body)
}
