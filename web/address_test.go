package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAddressPagesInEveryLanguage: the find page and its answer, and a
// dead confirm or find link, in each language, linked from the footer,
// never cached, without inline code.
func TestAddressPagesInEveryLanguage(t *testing.T) {
	p := newPortal(t, Config{})
	for lang, title := range map[string]string{"en": "Find my tickets", "fr": "Retrouver mes tickets", "de": "Meine Tickets finden", "cs": "Najít mé tikety"} {
		res, body := p.get(t, "/?lang="+lang)
		wantStatus(t, res, http.StatusOK)
		wantContains(t, body, `href="/tickets/find?lang=`+lang+`"`)
		res, body = p.get(t, "/tickets/find?lang="+lang)
		wantStatus(t, res, http.StatusOK)
		wantContains(t, body, "<h1>"+title+"</h1>", `id="find-form"`, `action="/tickets/find?lang=`+lang+`"`)
		wantNoInlineCode(t, body)
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", lang, res.Header.Get("Cache-Control"))
		}
		req, _ := http.NewRequest(http.MethodPost, "/tickets/find?lang="+lang, strings.NewReader(url.Values{"email": {"x@example.com"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, body = p.do(t, req)
		wantStatus(t, res, http.StatusOK)
		wantContains(t, body, `id="find-sent"`)
		wantLacks(t, body, `id="find-form"`)
		for _, dead := range []string{"/tickets/confirm?token=nope&lang=" + lang, "/tickets/find/list?token=nope&lang=" + lang} {
			res, body = p.get(t, dead)
			wantStatus(t, res, http.StatusGone)
			wantContains(t, body, `id="link-invalid"`)
		}
	}
}
