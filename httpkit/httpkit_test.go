package httpkit

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Behind a trusted proxy, the client is the right-most X-Forwarded-For
// entry that is not a trusted proxy, also when the proxy appends the
// client's port ("ip:port", "[ipv6]:port"); a malformed entry still stops
// the walk, leaving the last address believed.
func TestForwardedForWithPort(t *testing.T) {
	app := NewApp(Config{TrustedProxies: []string{"127.0.0.1", "10.0.0.0/8"}}, nil)
	app.Get("/ip", func(c *fiber.Ctx) error { return c.SendString(ClientIP(c)) })
	addr := serveForTest(t, app)
	client := &http.Client{Timeout: 5 * time.Second}
	for _, c := range []struct{ xff, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"203.0.113.7:51234", "203.0.113.7"},
		{"[2001:db8::1]:443", "2001:db8::1"},
		{"198.51.100.1, 203.0.113.7:51234", "203.0.113.7"},
		{"198.51.100.1, 203.0.113.7:51234, 10.1.2.3:80", "203.0.113.7"},
		{"[::ffff:203.0.113.9]:8080", "203.0.113.9"},
		{"198.51.100.1, bogus, 10.1.2.3", "10.1.2.3"},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/ip", nil)
		req.Header.Set("X-Forwarded-For", c.xff)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(got) != c.want {
			t.Errorf("X-Forwarded-For %q: client %q, want %q", c.xff, got, c.want)
		}
	}
}
