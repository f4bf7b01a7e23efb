package httpkit

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// MinCompressSize is the smallest response body compressed: below it the
// saving is a few hundred bytes at most, not worth the CPU.
const MinCompressSize = 1024

// compressResponses compresses text responses of MinCompressSize or more
// with brotli or gzip, whichever the client accepts (fasthttp prefers
// brotli), at the fastest level: pages shrink to a fifth, and a fast
// level costs well under a millisecond for them. It runs outside
// logRequests, so error pages (already written by then) are compressed too.
//
// Left alone: WebSocket upgrades (the connection is handed over), streamed
// responses (of unknown length, perhaps long-lived), anything already
// encoded, and every type not listed in compressible (images, PDFs and
// archives are compressed already; fasthttp alone would compress any
// application/*).
func compressResponses() fiber.Handler {
	compress := fasthttp.CompressHandlerBrotliLevel(func(*fasthttp.RequestCtx) {}, fasthttp.CompressBrotliBestSpeed, fasthttp.CompressBestSpeed)
	return func(c *fiber.Ctx) error {
		if err := c.Next(); err != nil {
			return err
		}
		res := c.Response()
		if c.Get(fiber.HeaderUpgrade) != "" || res.StatusCode() < 200 || res.StatusCode() == fiber.StatusNoContent ||
			res.IsBodyStream() || len(res.Header.ContentEncoding()) > 0 ||
			!compressible(string(res.Header.ContentType())) || len(res.Body()) < MinCompressSize {
			return nil
		}
		compress(c.Context())
		return nil
	}
}

// compressible reports whether a media type is text that compresses well.
func compressible(contentType string) bool {
	t, _, _ := strings.Cut(contentType, ";")
	t = strings.TrimSpace(strings.ToLower(t))
	switch t {
	case "application/json", "application/javascript", "application/xml", "application/manifest+json", "image/svg+xml":
		return true
	}
	return strings.HasPrefix(t, "text/")
}
