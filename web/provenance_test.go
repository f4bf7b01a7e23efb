package web

import (
	"testing"
	"time"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/ticketfeed"
)

// An article's page says when it last changed and who wrote it, from the
// content's history (Services.Provenance), in the page's language; where
// the history knows nothing, or there is none, the front matter's date.
func TestArticleProvenance(t *testing.T) {
	svc := testportal.Open(t, "testdata/content", ticketfeed.Encoders{Customers: LiveEvent})
	dec3 := time.Date(2026, time.December, 3, 14, 5, 0, 0, time.UTC)
	history := map[string][]string{
		"en/backup.md":        {"Ana", "Petr", "Jan", "Eva"},
		"de/backup.md":        {"Ana", "Petr", "Jan"},
		"en/file-a-ticket.md": {"<script>alert(1)</script>"},
		"cs/heslo.md":         {"Ana", "Petr", "Jan", "Eva", "Olga"},
	}
	var asked []string
	site, err := New(Config{}, Services{Search: svc.Search, Events: svc.Events, Tickets: svc.Tickets, Deflect: svc.Deflect,
		Hub: svc.Hub, Health: svc.Health, Provenance: func(p string) (time.Time, []string) {
			asked = append(asked, p)
			names, ok := history[p]
			if !ok {
				return time.Time{}, nil
			}
			return dec3, names
		}})
	if err != nil {
		t.Fatal(err)
	}
	app := httpkit.NewApp(httpkit.Config{}, site.ErrorPage)
	site.Routes(app)
	app.Use(site.NotFound)
	p := &portal{app: app, svc: svc}

	res, body := p.get(t, "/kb/en/backup")
	wantStatus(t, res, 200)
	wantContains(t, body, `Updated <time datetime="2026-12-03">3 December 2026</time>`, "Written by Ana, Petr and 2 others")
	if len(asked) != 1 || asked[0] != "en/backup.md" {
		t.Errorf("Provenance asked for %q, want the article's content path", asked)
	}

	_, body = p.get(t, "/kb/de/backup")
	wantContains(t, body, `Aktualisiert am <time datetime="2026-12-03">3. Dezember 2026</time>`, "Verfasst von Ana, Petr und Jan")
	wantLacks(t, body, "2. August 2026") // the front matter's lastmod gives way to the history

	_, body = p.get(t, "/kb/cs/heslo")
	wantContains(t, body, "3. prosince 2026", "Napsali Ana, Petr a 3 další")

	// A name is text, never markup.
	_, body = p.get(t, "/kb/en/file-a-ticket")
	wantContains(t, body, "Written by &lt;script&gt;alert(1)&lt;/script&gt;")
	wantLacks(t, body, "<script>alert(1)")

	// Unknown to the history: the front matter's date, and no names.
	_, body = p.get(t, "/kb/en/cannot-log-in")
	wantLacks(t, body, "Written by", "3 December 2026")

	// No history at all: the front matter's date, as before.
	plain := newPortal(t, Config{})
	_, body = plain.get(t, "/kb/de/backup")
	wantContains(t, body, `Aktualisiert am <time datetime="2026-08-02">2. August 2026</time>`)
	wantLacks(t, body, "Verfasst von")
}

func TestWrittenBy(t *testing.T) {
	words, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lang  string
		names []string
		want  string
	}{
		{"en", nil, ""},
		{"en", []string{"", " "}, ""},
		{"en", []string{"Ana"}, "Written by Ana"},
		{"en", []string{"Ana", "", "Petr"}, "Written by Ana and Petr"},
		{"en", []string{"Ana", "Petr", "Jan", "Eva", "Olga", "Ida"}, "Written by Ana, Petr and 4 others"},
		{"fr", []string{"Ana", "Petr", "Jan", "Eva"}, "Rédigé par Ana, Petr et 2 autres personnes"},
		{"cs", []string{"Ana", "Petr", "Jan", "Eva", "Olga", "Ida", "Eda"}, "Napsali Ana, Petr a 5 dalších"},
	} {
		if got := writtenBy(words, c.lang, c.names); got != c.want {
			t.Errorf("writtenBy(%s, %q) = %q, want %q", c.lang, c.names, got, c.want)
		}
	}
}
