package web

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/events"
)

// httpGet fetches url from a portal on a real port with the given header
// pairs, and returns the response with its body read (as sent: a client
// that asks for gzip itself gets the compressed bytes).
func httpGet(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// TestTaskListCheckboxNames: a task list's checkboxes reach the page with an
// accessible name in the article's language (issue 10, item 12).
func TestTaskListCheckboxNames(t *testing.T) {
	base, _ := serveBundledPortal(t)
	for _, c := range []struct{ url, want string }{
		{"/kb/en/how-to-file-a-good-ticket", `<input disabled="" type="checkbox" aria-label="Not done">`},
		{"/kb/de/how-to-file-a-good-ticket", `<input disabled="" type="checkbox" aria-label="Offen">`},
	} {
		res, body := httpGet(t, base+c.url)
		wantStatus(t, res, http.StatusOK)
		wantContains(t, body, c.want)
		if strings.Count(body, `type="checkbox"`) != strings.Count(body, `type="checkbox" aria-label=`) {
			t.Errorf("%s: a checkbox without a name", c.url)
		}
	}
}

// TestPagesAreCompressed: over real HTTP, the home page, an article and a
// search page come compressed to a client that accepts it; /healthz, tiny,
// does not (issue 10, item 14; httpkit's TestCompression has the rest).
func TestPagesAreCompressed(t *testing.T) {
	base, _ := serveBundledPortal(t)
	for _, path := range []string{"/", "/kb/en/how-to-file-a-good-ticket", "/search?q=password"} {
		res, body := httpGet(t, base+path, "Accept-Encoding", "gzip")
		wantStatus(t, res, http.StatusOK)
		if enc := res.Header.Get("Content-Encoding"); enc != "gzip" {
			t.Errorf("%s: Content-Encoding %q, want gzip", path, enc)
		}
		if len(body) > 20<<10 {
			t.Errorf("%s: %d bytes sent", path, len(body))
		}
	}
	res, body := httpGet(t, base+"/healthz", "Accept-Encoding", "gzip, br")
	wantStatus(t, res, http.StatusOK)
	if enc := res.Header.Get("Content-Encoding"); enc != "" || len(body) >= 1024 {
		t.Errorf("/healthz: Content-Encoding %q, %d bytes; want none", enc, len(body))
	}
}

// TestMetaDescriptions: home, search and the ticket pages describe
// themselves to search engines and link previews, in the page's language
// (issue 10, item 15).
func TestMetaDescriptions(t *testing.T) {
	p := newPortal(t, Config{})
	tk, token := fileTestTicket(t, p)
	ticket := "/tickets/" + itoa(tk.Number) + "?token=" + url.QueryEscape(token)
	for _, c := range []struct{ target, lang, want string }{
		{"/", "en", "Answers to common questions about Orbitask"},
		{"/?lang=fr", "fr", "Réponses aux questions fréquentes sur Orbitask"},
		{"/search", "en", "Search the Orbitask help center’s articles"},
		{"/search?q=password", "de", "Durchsuchen Sie die Artikel des Orbitask-Hilfe-Centers"},
		{"/tickets/new", "cs", "Kontaktujte podporu Orbitask"},
		{ticket, "en", "Your support ticket: its status"},
	} {
		res, body := p.get(t, c.target, "Accept-Language", c.lang)
		wantStatus(t, res, http.StatusOK)
		if n := strings.Count(body, `<meta name="description"`); n != 1 {
			t.Errorf("%s: %d meta descriptions, want 1", c.target, n)
		}
		wantContains(t, body, `<meta name="description" content="`+html.EscapeString(c.want))
	}
}

// TestSearchOffersContactSupport: a results page ends with "Still need
// help? Contact support", and a page without results offers support too,
// each with the query carried into the draft's subject (issue 10, item 7).
func TestSearchOffersContactSupport(t *testing.T) {
	p := newPortal(t, Config{})
	for _, c := range []struct{ target, want string }{
		{"/search?q=reset%20password", `<a class="button" href="/tickets/new?subject=reset%20password">Contact support</a>`},
		{"/search?q=reset%20password&lang=de", `<a class="button" href="/tickets/new?subject=reset%20password&amp;lang=de">`},
		{"/search?q=%3Cb%3Ezzzqqq%20%26", `href="/tickets/new?subject=%3Cb%3Ezzzqqq%20%26">Ask our support team</a>`},
	} {
		res, body := p.get(t, c.target)
		wantStatus(t, res, http.StatusOK)
		wantContains(t, body, c.want)
		wantLacks(t, body, "<b>zzzqqq")
	}
	_, body := p.get(t, "/search?q=reset%20password")
	wantContains(t, body, `<h2 id="still-need-help-title" class="still-need-help__title">Still need help?</h2>`)
	if strings.Index(body, "still-need-help") < strings.LastIndex(body, `class="hit"`) {
		t.Error("the offer comes before the last result")
	}
	// The draft starts from the query.
	_, body = p.get(t, "/tickets/new?subject=reset%20password")
	wantContains(t, body, `value="reset password"`)
}

// voteEvents are the vote events stored on an article, oldest first, as
// "helpful/missing".
func voteEvents(t *testing.T, svc *app.App, articleID string) []string {
	t.Helper()
	rows, err := svc.DB.Raw().Query(`SELECT json_extract(data, '$.helpful'), coalesce(json_extract(data, '$.missing'), '')
		FROM events WHERE kind = 'vote' AND json_extract(data, '$.article') = ? ORDER BY id`, articleID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var helpful bool
		var missing string
		if err := rows.Scan(&helpful, &missing); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%v/%s", helpful, missing))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNoAsksWhatWasMissing: after "No" (without JavaScript) the article
// asks what was missing and offers support with the article's title as the
// draft's subject; the answer is stored with the vote for the writers, as
// text, one line, at most events.MaxMissing characters (issue 10, item 4).
func TestNoAsksWhatWasMissing(t *testing.T) {
	p := newPortal(t, Config{})
	const article = "/kb/en/account/reset-password"
	const id = "en/account/reset-password"
	_, body := p.get(t, article)
	// Sent hidden, for the script to show after a "No".
	wantContains(t, body, `<div class="feedback__more" data-feedback-more hidden>`)

	res, _ := p.vote(t, article+"/vote", "no", "")
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != article+"?voted=no#feedback" {
		t.Fatalf("Location after No = %q", loc)
	}
	_, body = p.get(t, article+"?voted=no")
	wantContains(t, body,
		"Thanks for telling us.",
		`<div class="feedback__more" data-feedback-more>`,
		`<label class="feedback__label" for="feedback-missing">What was missing? (optional)</label>`,
		`name="missing" maxlength="500"`,
		`<a class="button button--primary" href="/tickets/new?lang=en&amp;subject=Reset%20a%20forgotten%20password">Contact support</a>`)

	send := func(missing string) *http.Response {
		req := httptest.NewRequest(http.MethodPost, article+"/vote", strings.NewReader(url.Values{"helpful": {"no"}, "missing": {missing}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, _ := p.do(t, req)
		return res
	}
	res = send("<b>The steps\r\nfor SSO</b>   accounts")
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != article+"?voted=noted#feedback" {
		t.Fatalf("Location after the note = %q", loc)
	}
	_, body = p.get(t, article+"?voted=noted")
	wantContains(t, body, "Thank you: the writers will read it.", "Contact support")
	wantLacks(t, body, `name="missing"`)

	// Too long: refused, nothing stored.
	res = send(strings.Repeat("x", events.MaxMissing+1))
	wantStatus(t, res, http.StatusUnprocessableEntity)

	want := []string{"false/", "false/<b>The steps for SSO</b> accounts"}
	if got := voteEvents(t, p.svc, id); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("vote events = %q, want %q", got, want)
	}
	// One vote counted: the note replaced the "No".
	if yes, no, err := p.ev.VoteCounts(t.Context(), id); err != nil || yes != 0 || no != 1 {
		t.Errorf("votes = %d yes, %d no (%v); want 0, 1", yes, no, err)
	}
	// The customer's words are never markup on a page: the vote's page
	// shows none of them, and the events keep them as text.
	wantLacks(t, body, "<b>The steps")
}
