package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/internal/testportal"
)

// One app carries both sides: the customer side's routes, the console's,
// and last the customer side's catch-all; every answer goes through the
// one error handler and carries the security headers.
func TestBothSidesOnOneApp(t *testing.T) {
	content := t.TempDir()
	if err := os.MkdirAll(filepath.Join(content, "en"), 0o755); err != nil {
		t.Fatal(err)
	}
	article := "---\ntitle: Reset a forgotten password\naliases: [/old/reset.html]\n---\nFollow the e-mail.\n"
	if err := os.WriteFile(filepath.Join(content, "en", "reset-password.md"), []byte(article), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{}, testportal.Open(t, content, LiveEncoders))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, target string
		status         int
		want           string // in the body, or the Location
	}{
		{"GET", "/healthz", 200, `"status":"ok"`},
		{"GET", "/kb/en/reset-password", 200, "Follow the e-mail."},
		{"GET", "/old/reset.html", 301, "/kb/en/reset-password"},
		{"GET", "/agent/login", 200, `name="csrf"`},
		{"GET", "/agent", 303, "/agent/login?next=%2Fagent"},
		{"GET", "/operator", 303, "/agent/login?next=%2Foperator"},
		{"GET", "/api/agent/queue", 401, `{"error":"sign in with a valid staff account or access token"}`},
		{"GET", "/api/operator/audit", 401, `"error"`},
		{"POST", "/agent/logout", 401, "your session has ended"}, // the customer side's error page
		{"GET", "/api/tickets/1001", 404, `{"error":"not found"}`},
		{"GET", "/no-such-page", 404, `<html lang="en">`},
	} {
		res, err := srv.Test(httptest.NewRequest(c.method, c.target, nil), 10000)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.status {
			t.Errorf("%s %s: status %d, want %d", c.method, c.target, res.StatusCode, c.status)
		}
		if got := string(body) + res.Header.Get("Location"); !strings.Contains(got, c.want) {
			t.Errorf("%s %s: answer lacks %q:\n%.300s", c.method, c.target, c.want, got)
		}
		if got := res.Header.Get("Content-Security-Policy"); got != httpkit.ContentSecurityPolicy {
			t.Errorf("%s %s: Content-Security-Policy %q", c.method, c.target, got)
		}
		if c.status == http.StatusUnauthorized && strings.HasPrefix(c.target, "/api/") && res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s: 401 without WWW-Authenticate", c.method, c.target)
		}
	}
}
