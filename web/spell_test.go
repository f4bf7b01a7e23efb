package web

import (
	"net/url"
	"testing"

	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/ticketfeed"
)

// TestDidYouMeanPage: the results page offers the correction that finds
// articles, keeps the page's filters in its link, and escapes what was typed.
func TestDidYouMeanPage(t *testing.T) {
	svc := testportal.Open(t, "../content", ticketfeed.Encoders{Customers: LiveEvent})
	p := &portal{app: newApp(t, Config{}, svc), ev: svc.Events, svc: svc}

	_, body := p.get(t, "/search?q="+url.QueryEscape("pasword resett")+"&lang=en")
	wantContains(t, body, `Did you mean <a href="/search?lang=en&amp;q=password%20reset">password reset</a>?`)

	_, body = p.get(t, "/search?q="+url.QueryEscape("pasword resett")+"&lang=en&category="+url.QueryEscape("Account & login"))
	wantContains(t, body, `<a href="/search?category=Account%20%26%20login&amp;lang=en&amp;q=password%20reset">password reset</a>`)

	_, body = p.get(t, "/search?q="+url.QueryEscape("Passwort zurücksetzn")+"&lang=de")
	wantContains(t, body, `Meinten Sie <a href="/search?lang=de&amp;q=Passwort%20zur%C3%BCcksetzen">Passwort zurücksetzen</a>?`)

	// Nothing found at all: the correction is the way out.
	_, body = p.get(t, "/search?q="+url.QueryEscape("pasword resett")+"&lang=en&tag=vat")
	wantContains(t, body, "No articles match", `Did you mean <a href="/search?lang=en&amp;q=password%20reset&amp;tag=vat">password reset</a>?`)

	_, body = p.get(t, "/search?q="+url.QueryEscape("pasword <b>now</b>")+"&lang=en")
	wantContains(t, body, `>password &lt;b&gt;now&lt;/b&gt;</a>?`)
	wantLacks(t, body, "<b>now")

	_, body = p.get(t, "/search?q="+url.QueryEscape("password reset")+"&lang=en")
	wantLacks(t, body, "Did you mean")
}
