package web

import (
	"database/sql"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/ticketfeed"
)

// TestSearchClickRecorded: a search records its id and the reader's
// visitor id; the results link to the articles with ?sq=ID, and opening
// one records a view carrying that id, while a view reached any other way
// carries none. The article page's canonical link has no sq, and
// /api/search answers its own search's id.
func TestSearchClickRecorded(t *testing.T) {
	content := writeContent(t, map[string]string{
		"en/printer.md": "---\ntitle: Printer offline\n---\nRestart the printer spooler.\n",
		"en/router.md":  "---\ntitle: Router lights\n---\nWhat the router's lights mean.\n",
	})
	svc := testportal.Open(t, content, ticketfeed.Encoders{Customers: LiveEvent})
	app := newApp(t, Config{}, svc)
	ua := []string{"User-Agent", "Mozilla/5.0 SearchClick"}

	res, body := testportal.Get(t, app, "/search?q=printer&lang=en", ua...)
	wantStatus(t, res, 200)
	if cc := res.Header.Get("Cache-Control"); cc != "private" {
		t.Errorf("results page with a search id: Cache-Control %q, want private", cc)
	}
	m := regexp.MustCompile(`href="/kb/en/printer\?sq=([0-9a-f]{16})"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no result link with sq: %s", body)
	}
	clicked := m[1]
	res, body = testportal.Get(t, app, "/kb/en/printer?sq="+clicked, ua...)
	wantStatus(t, res, 200)
	wantContains(t, body, `<link rel="canonical" href="/kb/en/printer">`)
	wantLacks(t, body, "sq=")

	// A search nobody clicks, through the API.
	res, body = testportal.Get(t, app, "/api/search?q=router&lang=en", ua...)
	wantStatus(t, res, 200)
	var api struct {
		SearchID string `json:"search_id"`
	}
	if err := json.Unmarshal([]byte(body), &api); err != nil || len(api.SearchID) != 16 {
		t.Fatalf("api search_id: %v %s", err, body)
	}
	// As-you-type keystrokes are not searches: no id.
	_, body = testportal.Get(t, app, "/api/search?q=rou&lang=en&prefix=1", ua...)
	wantLacks(t, body, "search_id")
	// A view from elsewhere, and one with a forged sq, carry none.
	testportal.Get(t, app, "/kb/en/router", ua...)
	testportal.Get(t, app, "/kb/en/router?sq=not-an-id", ua...)

	if err := svc.Events.Flush(); err != nil {
		t.Fatal(err)
	}
	db := svc.DB.Raw()
	searches := map[string]string{} // id → visitor
	rows, err := db.Query(`SELECT json_extract(data, '$.id'), json_extract(data, '$.visitor') FROM events WHERE kind = 'search' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, v sql.NullString
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		searches[id.String] = v.String
	}
	rows.Close()
	if len(searches) != 2 || searches[clicked] == "" || searches[api.SearchID] == "" {
		t.Fatalf("searches recorded %v, want %s and %s with visitors", searches, clicked, api.SearchID)
	}
	views := map[string][]string{} // article → search ids ("" for NULL)
	rows, err = db.Query(`SELECT article_id, coalesce(search_id, ''), visitor FROM article_views ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a, sq, v string
		if err := rows.Scan(&a, &sq, &v); err != nil {
			t.Fatal(err)
		}
		if v != searches[clicked] {
			t.Errorf("view of %s by %s, the searcher is %s: same browser, same day, same visitor", a, v, searches[clicked])
		}
		views[a] = append(views[a], sq)
	}
	rows.Close()
	if got := views["en/printer"]; len(got) != 1 || got[0] != clicked {
		t.Errorf("views of the clicked article carry %q, want [%s]", got, clicked)
	}
	if got := views["en/router"]; len(got) != 2 || got[0] != "" || got[1] != "" {
		t.Errorf("views of the other article carry %q, want none", got)
	}
	var unclicked int
	if err := db.QueryRow(`SELECT count(*) FROM events e WHERE kind = 'search'
		AND NOT EXISTS (SELECT 1 FROM article_views v WHERE v.search_id = json_extract(e.data, '$.id'))`).Scan(&unclicked); err != nil {
		t.Fatal(err)
	}
	if unclicked != 1 {
		t.Errorf("searches without a click = %d, want 1 (the API's)", unclicked)
	}
}

// TestSearchIDCarriedToNextPages: the links to the next page of results
// carry the search's id, and the hits there link with it.
func TestSearchIDCarriedToNextPages(t *testing.T) {
	files := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d"} {
		files["en/printer-"+n+".md"] = "---\ntitle: Printer " + n + "\n---\nThe printer, part " + n + ".\n"
	}
	svc := testportal.Open(t, writeContent(t, files), ticketfeed.Encoders{Customers: LiveEvent})
	app := newApp(t, Config{PageSize: 2}, svc)
	_, body := testportal.Get(t, app, "/search?q=printer&lang=en")
	m := regexp.MustCompile(`href="(/search\?[^"]*page=2[^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link to page 2: %s", body)
	}
	id := regexp.MustCompile(`sq=([0-9a-f]{16})`).FindStringSubmatch(m[1])
	if id == nil {
		t.Fatalf("page 2's link %s has no sq", m[1])
	}
	_, body = testportal.Get(t, app, regexp.MustCompile(`&amp;`).ReplaceAllString(m[1], "&"))
	wantContains(t, body, "?sq="+id[1]+`"`)
	// Back to page 1 from page 2: the same search, not a second one.
	back := regexp.MustCompile(`href="(/search\?[^"]*)"[^>]*>1<`).FindStringSubmatch(body)
	if back == nil || !strings.Contains(back[1], "sq="+id[1]) {
		t.Fatalf("page 2's link to page 1 %v lacks the search's id", back)
	}
	_, body = testportal.Get(t, app, regexp.MustCompile(`&amp;`).ReplaceAllString(back[1], "&"))
	wantContains(t, body, "?sq="+id[1]+`"`)
	svc.Events.Close() // writes the queued searches
	var n int
	if err := svc.DB.QueryRow(`SELECT count(*) FROM events WHERE kind = 'search'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d searches recorded for one search paged back and forth, want 1", n)
	}
}

// TestInstantPickIsASearchWithItsResults: the search recorded when a
// customer picks an as-you-type result is the list's own query, unfinished
// word included: it found the article (not "no results").
func TestInstantPickIsASearchWithItsResults(t *testing.T) {
	svc := testportal.Open(t, writeContent(t, map[string]string{"en/reset.md": "---\ntitle: Reset your password\n---\nUse the link.\n"}),
		ticketfeed.Encoders{Customers: LiveEvent})
	app := newApp(t, Config{}, svc)
	_, body := testportal.Get(t, app, "/api/search?q=passw&lang=en&limit=1&prefix=1&source=instant")
	if !strings.Contains(body, `"total":1`) || !strings.Contains(body, `"search_id":"`) {
		t.Fatalf("instant pick: %s", body)
	}
	_, body = testportal.Get(t, app, "/api/search?q=passw&lang=en&prefix=1")
	if strings.Contains(body, `"search_id":"`) {
		t.Errorf("a keystroke's request was recorded as a search: %s", body)
	}
	svc.Events.Close()
	var total int
	if err := svc.DB.QueryRow(`SELECT json_extract(data, '$.total') FROM events WHERE kind = 'search'`).Scan(&total); err != nil || total != 1 {
		t.Errorf("recorded total %d, %v; want 1", total, err)
	}
}
