package web

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/ticketfeed"
)

// writeContent writes Markdown files (path → text) into a new content tree.
func writeContent(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestSearchSnippetEscapedOnce: an article that talks about HTML tags shows
// them in snippets as the article page shows them, escaped once, on the
// results page and in /api/search alike, with no Markdown syntax.
func TestSearchSnippetEscapedOnce(t *testing.T) {
	content := writeContent(t, map[string]string{"en/tags.md": "---\ntitle: Tags in messages\n---\n" +
		"# Formatting\n\nUse the `<b>` tag for **bold** text, or write &lt;b&gt; in a [message](https://example.com/m).\n"})
	svc := testportal.Open(t, content, ticketfeed.Encoders{Customers: LiveEvent})
	app := newApp(t, Config{}, svc)

	res, body := testportal.Get(t, app, "/search?q=bold+tag&lang=en")
	wantStatus(t, res, 200)
	_, page, _ := strings.Cut(body, `class="hit__snippet"`)
	page, _, _ = strings.Cut(page, "</p>")
	wantContains(t, page, "Use the &lt;b&gt; <mark>tag</mark> for <mark>bold</mark> text, or write &lt;b&gt; in a message.")
	wantLacks(t, page, "&amp;", "**", "](", "# ")

	res, body = testportal.Get(t, app, "/api/search?q=bold+tag&lang=en")
	wantStatus(t, res, 200)
	var got struct{ Hits []struct{ Snippet string } }
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Hits) != 1 {
		t.Fatalf("api: %v %s", err, body)
	}
	s := got.Hits[0].Snippet
	wantContains(t, s, "Use the &lt;b&gt; <mark>tag</mark> for <mark>bold</mark> text, or write &lt;b&gt; in a message.")
	wantLacks(t, s, "&amp;", "**", "](", "# ")
}

// TestDamagedSearchIndex damages a portal's search index between two starts,
// then under the running portal: the start repairs it, /healthz reports the
// damage found while running (503) until the background rebuild is done,
// and searches answer correctly throughout what follows.
func TestDamagedSearchIndex(t *testing.T) {
	data := t.TempDir()
	live := ticketfeed.Encoders{Customers: LiveEvent}
	svc := testportal.OpenIn(t, "testdata/content", data, live, nil)
	app := newApp(t, Config{}, svc)
	wantHealth := func(status int, search string) map[string]any {
		t.Helper()
		res, body := testportal.Get(t, app, "/healthz")
		var got map[string]any
		json.Unmarshal([]byte(body), &got)
		if res.StatusCode != status || !strings.Contains(fmt.Sprint(got["search"]), search) || got["articles"] != float64(7) {
			t.Fatalf("healthz: %d %s, want %d with search %q", res.StatusCode, body, status, search)
		}
		return got
	}
	wantSearch := func() {
		t.Helper()
		res, body := testportal.Get(t, app, "/api/search?q=backup&lang=en")
		wantStatus(t, res, 200)
		var got struct {
			Total int
			Hits  []struct{ ID string }
		}
		json.Unmarshal([]byte(body), &got)
		if got.Total != 1 || len(got.Hits) != 1 || got.Hits[0].ID != "en/backup" {
			t.Fatalf("search: %s", body)
		}
	}
	wantHealth(200, "ok")
	wantSearch()
	svc.Close()

	damage := func() {
		t.Helper()
		zaps, _ := filepath.Glob(filepath.Join(data, "search", "gen-*", "index.bleve", "store", "*.zap"))
		if len(zaps) != 1 {
			t.Fatalf("segments: %v", zaps)
		}
		f, err := os.OpenFile(zaps[0], os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := f.Stat()
		junk := make([]byte, 48)
		rand.New(rand.NewSource(info.Size())).Read(junk)
		f.WriteAt(junk, info.Size()/2)
		f.Close()
	}
	damage()
	rec := &recorder{}
	svc = testportal.OpenIn(t, "testdata/content", data, live, slog.New(rec))
	if st := svc.SearchStats; !st.Rebuilt || !st.Damaged || !strings.Contains(st.Reason, ".zap damaged") {
		t.Fatalf("second start: %+v", st)
	}
	if got := strings.Join(rec.take(), "\n"); !strings.Contains(got, "ERROR search index damaged") {
		t.Errorf("logged:\n%s", got)
	}
	if aside, _ := filepath.Glob(filepath.Join(data, "search.damaged-*", "index.bleve")); len(aside) != 1 {
		t.Errorf("damaged index kept aside: %v", aside)
	}
	app = newApp(t, Config{}, svc)
	wantHealth(200, "ok")
	wantSearch()

	// Damage under the running portal: Health looks again after its few
	// seconds of caching, so this waits for the next look.
	damage()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, body := testportal.Get(t, app, "/healthz")
		if res.StatusCode == 503 {
			if !strings.Contains(body, `"status":"degraded"`) || !strings.Contains(body, ".zap damaged") {
				t.Fatalf("healthz: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("damage not reported: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		res, body := testportal.Get(t, app, "/healthz")
		if res.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not repaired: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantHealth(200, "ok")
	wantSearch()
}
