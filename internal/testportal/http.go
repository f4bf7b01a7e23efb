package testportal

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/websocket"

	"github.com/orbitask/portal/httpkit"
)

// Do sends req through app in-process (Fiber's whole stack, no network)
// and returns the response with its body read.
func Do(t testing.TB, app *fiber.App, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := app.Test(req, 10000)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// Serve runs app (httpkit's) on a real port until the test ends, with its
// read timeouts, for WebSocket and raw-connection clients; it returns the
// address.
func Serve(t testing.TB, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go httpkit.Serve(app, ln)
	t.Cleanup(func() { app.Shutdown() })
	return ln.Addr().String()
}

// DialWS opens a WebSocket to path on host, sending origin as Origin
// unless it is "".
func DialWS(t testing.TB, host, path, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial("ws://"+host+path, h)
}

// WantStatus stops the test unless res has status want.
func WantStatus(t testing.TB, res *http.Response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", res.Request.Method, res.Request.URL, res.StatusCode, want)
	}
}

// WantContains fails the test for each of wants that body lacks.
func WantContains(t testing.TB, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

// WantLacks fails the test for each of unwanted that body contains.
func WantLacks(t testing.TB, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("page contains %q", w)
		}
	}
}

var scriptTag = regexp.MustCompile(`<script[^>]*>`)

// WantNoInlineCode checks that a page runs under the Content-Security-Policy:
// no inline scripts, event handlers or style attributes. A JSON data block
// is not run, so it is allowed.
func WantNoInlineCode(t testing.TB, body string) {
	t.Helper()
	for _, tag := range scriptTag.FindAllString(body, -1) {
		if !strings.Contains(tag, " src=") && !strings.Contains(tag, ` type="application/json"`) {
			t.Errorf("inline script: %s", tag)
		}
	}
	WantLacks(t, body, " style=", " onclick=", " onload=", "<style")
}

// Get sends a GET with the given header name/value pairs.
func Get(t testing.TB, app *fiber.App, target string, header ...string) (*http.Response, string) {
	t.Helper()
	return Do(t, app, newRequest(http.MethodGet, target, nil, header))
}

// PostJSON sends a POST of a JSON body with the given header name/value pairs.
func PostJSON(t testing.TB, app *fiber.App, target, body string, header ...string) (*http.Response, string) {
	t.Helper()
	return Do(t, app, newRequest(http.MethodPost, target, strings.NewReader(body), append([]string{"Content-Type", "application/json"}, header...)))
}

func newRequest(method, target string, body io.Reader, header []string) *http.Request {
	req := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}
