package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
)

// firstHourShots is where TestBrowserFirstHour saves its screenshots: the
// directory in PORTAL_SCREENSHOTS, for a person to look at, or the test's
// own temporary one.
func firstHourShots(t *testing.T) string {
	dir := os.Getenv("PORTAL_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shoot saves a full-page screenshot of tab as dir/name.png.
func shoot(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	png := browsertest.Value(t, tab, "screenshot "+name, chromedp.FullScreenshot(90))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// phone is a 390 × 844 touch screen without a mouse: the media queries
// (hover: none) and (pointer: coarse) match, as on a phone.
func phone() chromedp.Action[chromedp.Void] {
	return screen(390, 844, true)
}

// desktop is a 1280 × 900 screen with a mouse (headless Chromium, which
// has none, would otherwise match (hover: none)).
func desktop() chromedp.Action[chromedp.Void] {
	return screen(1280, 900, false)
}

func screen(width, height int64, touch bool) chromedp.Action[chromedp.Void] {
	var viewport chromedp.Action[chromedp.Void]
	hover, pointer := "hover", "fine"
	if touch {
		viewport = chromedp.EmulateViewport(width, height, chromedp.EmulateMobile, chromedp.EmulateTouch)
		hover, pointer = "none", "coarse"
	} else {
		viewport = chromedp.EmulateViewport(width, height)
	}
	return chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		if _, err := viewport(ctx, target); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, target, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{
			{Name: "hover", Value: hover}, {Name: "pointer", Value: pointer}, {Name: "any-hover", Value: hover}, {Name: "any-pointer", Value: pointer},
		}})
		return err
	})
}

// TestBrowserFirstHour checks, in Chromium, what a new customer stumbled
// on at 390 px and at 1280 px (issue 10, items 4, 5, 7 and 15), and saves
// screenshots of home, a results page and an article after "No" at both
// widths into the directory it logs.
func TestBrowserFirstHour(t *testing.T) {
	chromium := browsertest.Find(t)
	base, _ := serveBundledPortal(t)
	browser := browsertest.Start(t, chromium)
	shots := firstHourShots(t)
	t.Logf("screenshots in %s", shots)

	t.Run("breadcrumb links are 24 px targets on a phone", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser)
		browsertest.Step(t, tab, "open an article on a phone", phone(), chromedp.Navigate(base+"/kb/en/how-to-file-a-good-ticket"))
		heights := browsertest.Value(t, tab, "breadcrumb heights", chromedp.Evaluate[[]float64](
			`[...document.querySelectorAll(".breadcrumbs a")].map(a => a.getBoundingClientRect().height)`))
		if len(heights) < 2 {
			t.Fatalf("%d breadcrumb links", len(heights))
		}
		for i, h := range heights {
			if h < 24 {
				t.Errorf("breadcrumb link %d is %.1f px tall, want at least 24", i, h)
			}
		}
	})

	// The placeholder's text, measured in the input's font, against the
	// room for text inside the box; and whether the "/" hint is shown.
	type searchBox struct {
		Text     float64 `json:"text"`
		Room     float64 `json:"room"`
		Overflow bool    `json:"overflow"`
		Hint     bool    `json:"hint"`
	}
	measure := `(() => {
		const input = document.querySelector(".search--big .search__input");
		const cs = getComputedStyle(input);
		const ctx = document.createElement("canvas").getContext("2d");
		ctx.font = cs.font;
		const hint = document.querySelector(".search--big .search__hint");
		return {
			text: ctx.measureText(input.placeholder).width,
			room: input.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight),
			overflow: input.scrollWidth > input.clientWidth,
			hint: getComputedStyle(hint).display !== "none",
		};
	})()`
	t.Run("search box on a phone: the placeholder fits, no keyboard hint", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser)
		browsertest.Step(t, tab, "emulate a phone", phone())
		for _, lang := range []string{"en", "fr", "de", "cs"} {
			browsertest.Step(t, tab, "open the home page in "+lang, chromedp.Navigate(base+"/?lang="+lang))
			box := browsertest.Value(t, tab, "measure the search box", chromedp.Evaluate[searchBox](measure))
			if box.Text > box.Room || box.Overflow {
				t.Errorf("%s: the placeholder needs %.0f px, the box has %.0f (overflow %v)", lang, box.Text, box.Room, box.Overflow)
			}
			if box.Hint {
				t.Errorf(`%s: the "/" keyboard hint shows on a touch screen`, lang)
			}
		}
	})
	// Headless Chromium has no mouse and matches (hover: none) (DevTools
	// cannot emulate hover), so at desktop size the test checks the rule
	// instead: the hint is hidden only for a focused or filled box, or
	// under the no-keyboard query.
	t.Run("search box on a desktop: the hint is hidden only without a keyboard", func(t *testing.T) {
		tab := browsertest.OpenTab(t, browser)
		browsertest.Step(t, tab, "open the home page", desktop(), chromedp.Navigate(base+"/?lang=de"))
		box := browsertest.Value(t, tab, "measure the search box", chromedp.Evaluate[searchBox](measure))
		if box.Text > box.Room {
			t.Errorf("the placeholder needs %.0f px, the box has %.0f", box.Text, box.Room)
		}
		hiding := browsertest.Value(t, tab, "rules hiding the hint", chromedp.Evaluate[[]string](`(() => {
			const out = [];
			const walk = (rules, media) => {
				for (const r of rules) {
					if (r.cssRules && r.conditionText !== undefined) walk(r.cssRules, r.conditionText);
					else if (r.selectorText && r.selectorText.includes("search__hint") && r.style.display === "none") out.push((media ? "@media " + media + " " : "") + r.selectorText);
				}
			};
			for (const sheet of document.styleSheets) walk(sheet.cssRules, "");
			return out;
		})()`))
		want := []string{
			".search__input:focus ~ .search__hint, .search__input:not(:placeholder-shown) ~ .search__hint",
			"@media (hover: none), (pointer: coarse) .search__hint",
		}
		if strings.Join(hiding, "\n") != strings.Join(want, "\n") {
			t.Errorf("rules hiding the hint:\n%s\nwant:\n%s", strings.Join(hiding, "\n"), strings.Join(want, "\n"))
		}
	})
}
