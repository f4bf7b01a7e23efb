package web

import (
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/ticketfeed"
)

// TestCategoryFacetMergesTranslations: the bundled content files e-mail
// articles under "E-mail" in English and "E-Mail" in German; the results
// page lists the category once, and its link finds the articles of both.
func TestCategoryFacetMergesTranslations(t *testing.T) {
	svc := testportal.Open(t, "../content", ticketfeed.Encoders{Customers: LiveEvent})
	p := &portal{app: newApp(t, Config{}, svc), ev: svc.Events, svc: svc}

	_, body := p.get(t, "/search?q=password")
	wantLacks(t, body, `<span class="facet__name">E-Mail</span>`)
	if n := strings.Count(body, `<span class="facet__name">E-mail</span>`); n != 1 {
		t.Fatalf("E-mail listed %d times", n)
	}
	link := regexp.MustCompile(`<a class="facet__value" href="([^"]+)"><span class="facet__name">E-mail</span>`).FindStringSubmatch(body)
	if link == nil {
		t.Fatal("no link for the E-mail facet")
	}
	_, body = p.get(t, html.UnescapeString(link[1])+"&lang=de")
	// The German page of the same category: its German article, then the
	// English ones that have no German translation (the fallback); the
	// English original of the German article is neither shown nor counted.
	wantContains(t, body, `<span class="facet__name">E-Mail</span> <span class="facet__count">3</span><span class="visually-hidden">`,
		"/de/configure-outgoing-email", "/en/email-oauth-microsoft-google", "/en/incoming-email-to-tasks")
	wantLacks(t, body, "/en/configure-outgoing-email")
	wantLacks(t, body, `<span class="facet__name">E-mail</span>`)
	wantLacks(t, body, "No articles match")
}
