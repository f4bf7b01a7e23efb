package web

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
