//go:build sqlite_fts5

package fts5peer

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/orbitask/portal/kb"
)

func TestPeerRanksTitleMatchesFirstAndFiltersByLanguage(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, title, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("---\ntitle: "+title+"\n---\n"+body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("en/reset-password.md", "Reset your password", "Open the sign-in page and follow the link.")
	write("en/billing.md", "Billing", "Invoices are sent monthly; a forgotten password does not stop them.")
	write("de/passwort.md", "Passwort zurücksetzen password", "Öffnen Sie die Anmeldeseite.")
	k, err := kb.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(k.Articles)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(p.dir); !os.IsNotExist(err) {
			t.Errorf("the peer's database is left behind: %v", err)
		}
	}()
	ctx := context.Background()
	hits, err := p.Search(ctx, "How do I reset my passwords?", "en", 10, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].Article.Slug != "reset-password" || hits[1].Article.Slug != "billing" {
		t.Fatalf("hits: %+v, want reset-password then billing (English only)", hits)
	}
	if hits[0].Snippet == "" || hits[1].Snippet == "" {
		t.Errorf("snippets asked for, none given: %+v", hits)
	}
	all, err := p.Search(ctx, "password", "", 10, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Snippet != "" {
		t.Errorf("any language, no snippets: %+v", all)
	}
	if none, err := p.Search(ctx, "?!", "en", 10, false); err != nil || len(none) != 0 {
		t.Errorf("a question without words: %v %v", none, err)
	}
}
