package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
)

// The operator page states the calendar once: the working hours in a
// sentence, the per-plan targets in their list, and no summary that
// repeats them.
func TestOperatorCalendarOnce(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, pw := p.staffUser(t, "olga@orbitask.example", staff.RoleOperator)
	op := p.browser()
	op.login(t, "olga@orbitask.example", pw)
	res, body := op.send(t, "GET", "/operator", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "Working hours: Europe/Prague; Mon Tue Wed Thu Fri")
	for _, once := range []string{"Europe/Prague", "working hours</dd>", "as agreed"} {
		if n := strings.Count(body, once); n != 1 {
			t.Errorf("%q appears %d times on /operator, want once", once, n)
		}
	}
	wantLacks(t, body, "holidays;")
}
