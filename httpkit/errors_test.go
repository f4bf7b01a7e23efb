package httpkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/internal/testlog"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/sqlitedb"
)

// send GETs target; the body comes back with the Retry-After header.
func send(t *testing.T, app *fiber.App, target string) (int, string) {
	t.Helper()
	res, err := app.Test(httptest.NewRequest("GET", target, nil), 10000)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(body) + "|Retry-After=" + res.Header.Get("Retry-After")
}

// errorLines are the ERROR lines logged.
func errorLines(logs string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	return out
}

// One cause failing request after request is logged once at once, then
// summed up once per interval while it goes on; another cause is logged
// at once beside it, a client's mistake not at all; after a quiet interval
// the cause is logged at once again.
func TestRepeatedServerErrorsAreSummedUp(t *testing.T) {
	var logs testlog.Buffer
	const interval = 500 * time.Millisecond
	app := NewApp(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)), ErrorLogInterval: interval}, nil)
	errBoom := errors.New("disk on fire")
	app.Get("/fail/:n", func(c *fiber.Ctx) error { return fmt.Errorf("tickets: get #%s: %w", c.Params("n"), errBoom) })
	app.Get("/other", func(c *fiber.Ctx) error { return errors.New("another cause") })
	app.Get("/missing", func(c *fiber.Ctx) error { return ErrNotFound })

	const n = 200
	for i := range n {
		if code, _ := send(t, app, "/fail/"+strconv.Itoa(i)); code != 500 {
			t.Fatalf("status %d", code)
		}
	}
	send(t, app, "/other")
	send(t, app, "/missing")
	lines := errorLines(logs.String())
	if len(lines) != 2 || !strings.Contains(lines[0], `msg="request failed" method=GET path=/fail/0 error="tickets: get #0: disk on fire"`) ||
		!strings.Contains(lines[1], "path=/other") {
		t.Fatalf("logged at once:\n%s", strings.Join(lines, "\n"))
	}

	// The repeats are summed up when the interval ends (more than once if
	// the requests took longer than one interval).
	repeated := regexp.MustCompile(`msg="request failed \(repeated\)" repeated=(\d+) within=500ms method=GET path=/fail/\d+ error="tickets: get #\d+: disk on fire"`)
	deadline := time.Now().Add(10 * time.Second)
	sum := 0
	for sum < n-1 && time.Now().Before(deadline) {
		time.Sleep(interval / 5)
		sum = 0
		for _, l := range errorLines(logs.String())[2:] {
			m := repeated.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("unexpected line: %s", l)
			}
			k, _ := strconv.Atoi(m[1])
			sum += k
		}
	}
	if sum != n-1 {
		t.Fatalf("summed up %d repeats, want %d:\n%s", sum, n-1, logs.String())
	}
	if got := errorLines(logs.String()); len(got) > 2+3 {
		t.Errorf("%d ERROR lines for %d failures:\n%s", len(got), n+1, strings.Join(got, "\n"))
	}

	// Quiet for an interval: forgotten, so the next one is logged at once.
	time.Sleep(3 * interval)
	before := len(errorLines(logs.String()))
	send(t, app, "/fail/again")
	got := errorLines(logs.String())
	if len(got) != before+1 || !strings.Contains(got[len(got)-1], `msg="request failed" method=GET path=/fail/again`) {
		t.Errorf("after a quiet interval:\n%s", strings.Join(got, "\n"))
	}
}

// Storage that cannot take writes is a 503 with Retry-After and the
// message saying so, as JSON for the API; a page given with WithPage
// replaces the error page, not the API's JSON.
func TestStorageUnavailableIs503(t *testing.T) {
	full := sqlitedb.Unavailable(fmt.Errorf("tickets: file: attachment a.log: %w", &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}))
	app := NewApp(Config{}, func(c *fiber.Ctx, status int, msg string) error {
		return c.Status(status).SendString("error page: " + msg)
	})
	form := func(c *fiber.Ctx, status int, msg string) error {
		return c.Status(status).SendString("the form, kept: " + msg)
	}
	for _, p := range []string{"/api/file", "/file", "/api/form", "/form"} {
		app.Get(p, func(c *fiber.Ctx) error {
			if strings.HasSuffix(p, "form") {
				return WithPage(full, form)
			}
			return full
		})
	}
	want := map[string]string{
		"/api/file": `{"error":"` + UnavailableMessage + `"}|Retry-After=120`,
		"/file":     "error page: " + UnavailableMessage + "|Retry-After=120",
		"/api/form": `{"error":"` + UnavailableMessage + `"}|Retry-After=120`,
		"/form":     "the form, kept: " + UnavailableMessage + "|Retry-After=120",
	}
	for target, w := range want {
		code, got := send(t, app, target)
		if code != 503 || got != w {
			t.Errorf("%s: %d %s\nwant 503 %s", target, code, got, w)
		}
	}
	var js map[string]string
	_, got := send(t, app, "/api/file")
	if err := json.Unmarshal([]byte(strings.Split(got, "|")[0]), &js); err != nil || strings.Contains(got, "no space") {
		t.Errorf("the API's answer %s (%v) is not JSON, or shows the cause", got, err)
	}
}

// A query on a damaged search index (rebuilt in the background) is a
// temporary failure, not a generic 500.
func TestDamagedSearchIs503(t *testing.T) {
	app := NewApp(Config{}, nil)
	app.Get("/api/search", func(c *fiber.Ctx) error {
		return fmt.Errorf("search: query %q: %w", "invoice", search.ErrDamaged)
	})
	code, got := send(t, app, "/api/search")
	if code != 503 || !strings.Contains(got, "Search is being repaired") || !strings.HasSuffix(got, "Retry-After=120") {
		t.Errorf("%d %s, want 503 saying search is being repaired, with Retry-After", code, got)
	}
}

// A server's one ErrorLog, given to the app and used by a WebSocket
// handler (which has no error handler), counts both together: a cause
// failing requests and sockets alike is logged once, then summed up.
func TestErrorLogSharedWithSockets(t *testing.T) {
	var logs testlog.Buffer
	errs := NewErrorLog(slog.New(slog.NewTextHandler(&logs, nil)), time.Hour)
	app := NewApp(Config{Errors: errs}, nil)
	errBoom := errors.New("index on fire")
	app.Get("/api/search", func(c *fiber.Ctx) error { return fmt.Errorf("search: %w", errBoom) })
	for range 20 {
		errs.ServerError("WS", "/api/deflect/ws", 500, fmt.Errorf("deflection: %w", errBoom))
		send(t, app, "/api/search")
	}
	if lines := errorLines(logs.String()); len(lines) != 1 || !strings.Contains(lines[0], "method=WS path=/api/deflect/ws") {
		t.Errorf("40 failures of one cause logged as:\n%s", strings.Join(lines, "\n"))
	}
}
