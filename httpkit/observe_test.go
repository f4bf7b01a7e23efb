package httpkit

import (
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Each answered request is reported once under the pattern of the route
// that answered it, with the status sent (errors included); what a
// group's middleware refuses has the group's prefix, and what no route
// takes is Unmatched, told apart from a route at "/".
func TestOnRequestReportsRoutePatterns(t *testing.T) {
	var mu sync.Mutex
	var got []string
	app := NewApp(Config{OnRequest: func(route, method string, status int, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, method+" "+route+" "+strconv.Itoa(status))
		if d <= 0 {
			t.Errorf("%s %s: duration %v", method, route, d)
		}
	}}, nil)
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString("home") })
	app.Get("/items/:id", func(c *fiber.Ctx) error {
		if c.Params("id") == "0" {
			return fiber.ErrNotFound
		}
		return c.SendString("item")
	})
	app.Get("/docs/*", func(c *fiber.Ctx) error { return c.SendString("doc") })
	admin := app.Group("/admin", func(c *fiber.Ctx) error {
		if c.Get("Authorization") == "" {
			return fiber.ErrUnauthorized
		}
		return c.Next()
	})
	admin.Get("/users/:id", func(c *fiber.Ctx) error { return c.SendString("user") })
	app.Use(Fallback(func(c *fiber.Ctx) error { return fiber.ErrNotFound }))

	for _, c := range []struct{ method, path, auth string }{
		{"GET", "/", ""},
		{"GET", "/items/42", ""},
		{"GET", "/items/0", ""},
		{"GET", "/docs/a/b/c", ""},
		{"GET", "/admin/users/7", ""},
		{"GET", "/admin/users/7", "Bearer x"},
		{"GET", "/nowhere/17", ""},
		{"POST", "/items/42", ""},
	} {
		req := httptest.NewRequest(c.method, c.path, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		res, err := app.Test(req, 5000)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	// Refused by the app's own middleware, before any route.
	if got := rawExchange(t, serveForTest(t, app), "GET /items/42 HTTP/1.1\r\nHost: portal\r\nX-Note : hello\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Fatalf("ambiguous framing answered %.40q", got)
	}
	want := []string{
		"GET / 200",
		"GET /items/:id 200",
		"GET /items/:id 404",
		"GET /docs/* 200",
		"GET /admin 401",
		"GET /admin/users/:id 200",
		"GET " + Unmatched + " 404",
		"POST " + Unmatched + " 404",
		"GET " + Unmatched + " 400",
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("reported\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
