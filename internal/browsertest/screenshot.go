package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// ScreenshotWidths are the viewport widths Screenshot takes each page at: a
// laptop and a phone.
var ScreenshotWidths = []int64{1280, 390}

// screenshotDirs are the folders already emptied and named in this run.
var screenshotDirs sync.Map

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ScreenshotDir is the folder a test's screenshots go to:
// $PORTAL_SCREENSHOTS/<test>, or <temp>/portal-screenshots/<test>. The name
// is stable, so a reader finds the last run's pictures after the test ends;
// the first screenshot of a run empties it and logs where it is.
func ScreenshotDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("PORTAL_SCREENSHOTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "portal-screenshots")
	}
	test, _, _ := strings.Cut(t.Name(), "/")
	dir := filepath.Join(root, unsafeName.ReplaceAllString(test, "_"))
	if _, done := screenshotDirs.LoadOrStore(dir, true); !done {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshots: %s", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Screenshot saves full-page PNGs of the page open in tab, one per width of
// ScreenshotWidths, as NAME-WIDTH.png in ScreenshotDir; then it gives the
// tab its own viewport back.
func Screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	dir := ScreenshotDir(t)
	defer Step(t, tab, "reset the viewport", chromedp.EmulateReset())
	for _, w := range ScreenshotWidths {
		Step(t, tab, fmt.Sprintf("viewport %d px", w), chromedp.EmulateViewport(w, 800))
		png := Value(t, tab, "screenshot "+name, chromedp.FullScreenshot(100))
		file := filepath.Join(dir, fmt.Sprintf("%s-%d.png", unsafeName.ReplaceAllString(name, "_"), w))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
