package httpkit

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/websocket"
)

// TestCompression over real HTTP: a page (and an error page, and a posted
// form's answer read from a streamed body) is compressed with what the
// client accepts; a tiny answer, a PNG, a PDF and a client that accepts
// nothing get the bytes as they are; an SVG is text and compressed; a
// WebSocket upgrade still works (issue 10, item 14).
func TestCompression(t *testing.T) {
	page := strings.Repeat("<p>How to reset your password, step by step.</p>\n", 100)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 4096)...)
	svg := `<svg xmlns="http://www.w3.org/2000/svg">` + strings.Repeat(`<circle r="1"/>`, 200) + `</svg>`
	app := NewApp(Config{}, func(c *fiber.Ctx, status int, msg string) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Status(status).SendString(page + msg)
	})
	app.Get("/page", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.SendString(page)
	})
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/broken", func(c *fiber.Ctx) error { return ErrNotFound })
	app.Get("/image.png", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "image/png")
		return c.Send(png)
	})
	app.Get("/file.pdf", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "application/pdf")
		return c.Send(png)
	})
	app.Get("/logo.svg", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "image/svg+xml")
		return c.SendString(svg)
	})
	app.Post("/echo", func(c *fiber.Ctx) error {
		if err := ReadBody(c, 1<<20); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Send(bytes.Repeat(c.Body(), 10))
	})
	app.Get("/ws", NewClients(ClientsConfig{}).WebSocket(nil, func(conn *websocket.Conn, r *http.Request) {
		_ = conn.WriteMessage(websocket.TextMessage, []byte(page))
	}))
	addr := serveForTest(t, app)
	// A transport that neither asks for nor undoes compression: what the
	// server sends is what the test sees.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	fetch := func(method, path, accept, body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		if body != "" {
			req.Header.Set("Content-Type", "text/plain")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		got, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, got
	}
	decode := func(enc string, b []byte) string {
		t.Helper()
		var r io.Reader
		switch enc {
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			r = zr
		case "br":
			r = brotli.NewReader(bytes.NewReader(b))
		default:
			return string(b)
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		return string(out)
	}
	for _, c := range []struct {
		method, path, accept, body string
		status                     int
		wantEnc, want              string
	}{
		{"GET", "/page", "gzip", "", 200, "gzip", page},
		{"GET", "/page", "gzip, deflate, br", "", 200, "br", page},
		{"GET", "/page", "", "", 200, "", page},
		{"GET", "/page", "identity", "", 200, "", page},
		{"GET", "/healthz", "gzip, br", "", 200, "", "ok"},
		{"GET", "/broken", "gzip", "", 404, "gzip", page + "not found"},
		{"GET", "/image.png", "gzip, br", "", 200, "", string(png)},
		{"GET", "/file.pdf", "gzip, br", "", 200, "", string(png)},
		{"GET", "/logo.svg", "gzip", "", 200, "gzip", svg},
		{"POST", "/echo", "gzip", strings.Repeat("a line of the ticket\n", 20), 200, "gzip", strings.Repeat(strings.Repeat("a line of the ticket\n", 20), 10)},
	} {
		res, raw := fetch(c.method, c.path, c.accept, c.body)
		if res.StatusCode != c.status {
			t.Errorf("%s %s: status %d, want %d", c.method, c.path, res.StatusCode, c.status)
		}
		enc := res.Header.Get("Content-Encoding")
		if enc != c.wantEnc {
			t.Errorf("%s %s (Accept-Encoding %q): Content-Encoding %q, want %q", c.method, c.path, c.accept, enc, c.wantEnc)
			continue
		}
		if got := decode(enc, raw); got != c.want {
			t.Errorf("%s %s: body %.60q… (%d bytes), want %d bytes", c.method, c.path, got, len(got), len(c.want))
		}
		if enc != "" && len(raw) >= len(c.want)/2 {
			t.Errorf("%s %s: %d bytes compressed from %d", c.method, c.path, len(raw), len(c.want))
		}
		if enc != "" && !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("%s %s: Vary %q lacks Accept-Encoding", c.method, c.path, res.Header.Get("Vary"))
		}
	}

	// A browser asks for compression on the upgrade too; it must not get it.
	conn, res, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", http.Header{"Accept-Encoding": {"gzip, br"}})
	if err != nil {
		t.Fatalf("upgrade with Accept-Encoding: %v", err)
	}
	defer conn.Close()
	if enc := res.Header.Get("Content-Encoding"); enc != "" {
		t.Errorf("upgrade answered with Content-Encoding %q", enc)
	}
	if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != page {
		t.Errorf("message over the socket: %.40q, %v", msg, err)
	}
}
