package console_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

// While the database is full (for real: SQLite refuses to grow it), the
// operators' page says so in a banner with the reason; once a write
// succeeds again, the banner is gone.
func TestOperatorPageShowsStorageFailures(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, pw := p.staffUser(t, "olga@orbitask.example", staff.RoleOperator)
	op := p.browser()
	op.login(t, "olga@orbitask.example", pw)
	const banner = "The portal is degraded."
	res, body := op.send(t, "GET", "/operator", nil)
	wantStatus(t, res, http.StatusOK)
	wantLacks(t, body, banner)

	testportal.FillDatabase(t, p.svc.DB)
	nt := tickets.NewTicket{Name: "Jana", Company: "Acme", Phone: "+420 601 555 010", Email: "jana@acme.example",
		Subject: "Export fails", Description: strings.Repeat("The export stops half way, every night. ", 200), Severity: 3}
	if _, _, err := p.svc.Tickets.File(context.Background(), nt); !errors.Is(err, sqlitedb.ErrUnavailable) {
		t.Fatalf("filing into a full database: %v", err)
	}
	res, body = op.send(t, "GET", "/operator", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, `<div class="alert alert--error" role="alert">`, banner, "database: writes fail: database or disk is full")

	testportal.FreeDatabase(t, p.svc.DB)
	if _, _, err := p.svc.Tickets.File(context.Background(), nt); err != nil {
		t.Fatal(err)
	}
	res, body = op.send(t, "GET", "/operator", nil)
	wantStatus(t, res, http.StatusOK)
	wantLacks(t, body, banner)
}
