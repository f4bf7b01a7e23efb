package web

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
)

// TestBrowserFallbackSuggestion: on the Czech new-ticket page, a draft only
// an English article answers shows it beside the draft, marked "anglicky"
// in a badge of the page's language, its link and words in English.
func TestBrowserFallbackSuggestion(t *testing.T) {
	chromium := browsertest.Find(t)
	base, _ := serveBundledPortal(t)
	browser := browsertest.Start(t, chromium)
	tab := browsertest.OpenTab(t, browser, chromedp.WithNewBrowserContext())
	browsertest.Step(t, tab, "type a Czech draft",
		chromedp.Navigate(base+"/tickets/new?lang=cs"),
		chromedp.WaitReady(chromedp.ID("subject")),
		chromedp.SendKeys(chromedp.ID("subject"), "Přihlášení přes SAML SSO nefunguje "),
		chromedp.Poll[chromedp.Void](`document.querySelector('#suggestions a[href="/kb/en/single-sign-on"]') !== null`),
	)
	type suggestion struct {
		ItemLang  string `json:"itemLang"`
		HrefLang  string `json:"hrefLang"`
		Badge     string `json:"badge"`
		BadgeLang string `json:"badgeLang"`
		Czech     int    `json:"czech"` // Czech suggestions, all before it
		Before    bool   `json:"before"`
	}
	got := browsertest.Value(t, tab, "read the suggestion", chromedp.Evaluate[suggestion](`(() => {
		const a = document.querySelector('#suggestions a[href="/kb/en/single-sign-on"]');
		const li = a.closest("li");
		const badge = li.querySelector(".lang-badge");
		const items = [...document.querySelectorAll("#suggestions .suggestion")];
		const czech = items.filter(x => x.querySelector("a").hreflang === "cs");
		return {
			itemLang: li.lang, hrefLang: a.hreflang,
			badge: badge ? badge.textContent : "", badgeLang: badge ? badge.lang : "",
			czech: czech.length,
			before: czech.every(x => items.indexOf(x) < items.indexOf(li)),
		};
	})()`))
	if got.ItemLang != "en" || got.HrefLang != "en" || got.Badge != "anglicky" || got.BadgeLang != "cs" || !got.Before {
		t.Errorf("the English suggestion: %+v", got)
	}
	screenshot(t, tab, "draft-fallback-cs")
}
