package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestTicketFormSentAsShown: the rest of the form is sent hidden behind
// "continue", so that no script hides it after the first paint, with a
// stylesheet for browsers without JavaScript; a form that came back with
// errors is sent whole.
func TestTicketFormSentAsShown(t *testing.T) {
	p := newPortal(t, Config{})
	res, body := p.get(t, "/tickets/new")
	wantStatus(t, res, 200)
	wantContains(t, body, `id="ticket-details" class="ticket-details" tabindex="-1" hidden>`, `aria-expanded="false">`,
		`<noscript><link rel="stylesheet" href="/static/noscript.`)

	form := url.Values{"subject": {"Export fails"}, "description": {"The CSV export stops at 50%."}}
	req := httptest.NewRequest(http.MethodPost, "/tickets", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, body = p.do(t, req)
	wantStatus(t, res, 422)
	wantContains(t, body, `id="ticket-details" class="ticket-details" tabindex="-1">`, `aria-expanded="true" hidden>`)
}
