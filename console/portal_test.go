package console_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/console"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/tickets"
)

// The console's tests drive the whole HTTP server (server.New: the
// customer side and the console on one app), since the console's changes
// reach the customer's page, and its errors show the customer side's error
// page.

// sessionCookie is the console's session cookie.
const sessionCookie = console.SessionCookie

// portal is the HTTP server over the fixture knowledge base in
// testdata/content.
type portal struct {
	app    *fiber.App
	dbPath string
	svc    *app.App
}

func newPortal(t testing.TB, cfg server.Config) *portal {
	t.Helper()
	return newPortalOver(t, "testdata/content", cfg)
}

func newPortalOver(t testing.TB, content string, cfg server.Config) *portal {
	t.Helper()
	svc := testportal.Open(t, content, server.LiveEncoders)
	srv, err := server.New(cfg, svc)
	if err != nil {
		t.Fatal(err)
	}
	return &portal{app: srv, dbPath: filepath.Join(svc.DataDir, "portal.db"), svc: svc}
}

// do sends req and returns the response with its body read.
func (p *portal) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	return testportal.Do(t, p.app, req)
}

func (p *portal) get(t *testing.T, target string, header ...string) (*http.Response, string) {
	t.Helper()
	return testportal.Get(t, p.app, target, header...)
}

func (p *portal) postJSON(t *testing.T, target, body string, header ...string) (*http.Response, string) {
	t.Helper()
	return testportal.PostJSON(t, p.app, target, body, header...)
}

// serve runs the app on a real port, for WebSocket clients.
func (p *portal) serve(t *testing.T) string {
	t.Helper()
	return testportal.Serve(t, p.app)
}

// fileTestTicket files a valid ticket directly in the store.
func fileTestTicket(t *testing.T, p *portal) (tickets.Ticket, string) {
	t.Helper()
	tk, token, err := p.svc.Tickets.File(context.Background(), tickets.NewTicket{Name: "Jana", Company: "Acme",
		Phone: "+420 601 555 010", Email: "jana@acme.example", Subject: "Export fails", Description: "The export stops.", Severity: 3})
	if err != nil {
		t.Fatal(err)
	}
	return tk, token
}

func itoa(n int) string { return strconv.Itoa(n) }

// The checks of a response that every test uses.
var (
	wantStatus       = testportal.WantStatus
	wantContains     = testportal.WantContains
	wantLacks        = testportal.WantLacks
	wantNoInlineCode = testportal.WantNoInlineCode
	dialWS           = testportal.DialWS
)
