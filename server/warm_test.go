package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/internal/testportal"
)

// After a restart, the searches customers made before it are answered
// from the cache from the very first request: the cache was warmed, with
// the queries the customer side builds (same keys), before serving.
func TestRestartServesFrequentSearchesFromAWarmCache(t *testing.T) {
	content := t.TempDir()
	for name, text := range map[string]string{
		"reset-password.md": "---\ntitle: Reset a forgotten password\n---\nFollow the link in the e-mail.\n",
		"invoices.md":       "---\ntitle: Download your invoices\n---\nInvoices are in the billing settings.\n",
	} {
		p := filepath.Join(content, "en", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data := t.TempDir()
	cfg := Config{PageSize: 7}
	start := func() (*app.App, func(target string) string) {
		a, err := app.Open(app.Config{Data: data, Content: content, Live: LiveEncoders, FeedInterval: testportal.FeedInterval,
			HashMemoryKiB: 64, HashTime: 1, SearchWarm: SearchWarm(cfg)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		srv, err := New(cfg, a)
		if err != nil {
			t.Fatal(err)
		}
		return a, func(target string) string {
			t.Helper()
			res, body := testportal.Get(t, srv, target)
			testportal.WantStatus(t, res, 200)
			return body
		}
	}

	a, get := start()
	for i := 0; i < 3; i++ {
		get("/search?q=reset+password&lang=en")
	}
	get("/api/search?q=invoices")
	get("/api/search?q=billing+settings&prefix=1&limit=1&source=instant")
	if err := a.Close(); err != nil { // writes the queued events
		t.Fatal(err)
	}

	a, get = start()
	if n := a.Search.CacheHits(); n != 0 {
		t.Fatalf("%d cache hits before any search", n)
	}
	want := int64(0)
	for _, c := range []struct {
		target string
		cached bool
	}{
		{"/search?q=reset+password&lang=en", true},
		{"/api/search?q=invoices", true},
		// The search box's list for the result picked.
		{"/api/search?q=billing+settings&prefix=1&limit=6", true},
		{"/search?q=invoices", false},     // searched by the API only: another query
		{"/api/search?q=download", false}, // never searched
		{"/search?q=reset+password&lang=en&page=2", false},
	} {
		body := get(c.target)
		if c.cached {
			want++
		}
		if got := a.Search.CacheHits(); got != want {
			t.Errorf("%s: %d cache hits, want %d (from the cache: %v)\n%.300s", c.target, got, want, c.cached, body)
			want = got
		}
	}
}
