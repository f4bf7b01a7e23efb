package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/orbitask/portal/search"
)

// The sets every run of the suite measures: all of bench/devsets, and
// covidfaq when ../shared/bench is beside the repository.
const (
	devsets  = "../../bench/devsets"
	covidfaq = "../../../shared/bench/covidfaq"
)

// TestNeverBelowPlainBM25 is the regression guard of issue 13: on every
// development set the portal ranks at least as well as plain Bleve BM25
// over title and body (within 0.005), and drafting (search.DraftQuery,
// floor included) finds what searching finds (within 0.01 Recall@5).
func TestNeverBelowPlainBM25(t *testing.T) {
	entries, err := os.ReadDir(devsets)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if fi, err := os.Stat(filepath.Join(devsets, e.Name(), "docs")); err == nil && fi.IsDir() {
			dirs = append(dirs, filepath.Join(devsets, e.Name()))
		}
	}
	if len(dirs) < 2 {
		t.Fatalf("found %d development sets under %s, want at least 2", len(dirs), devsets)
	}
	if _, err := os.Stat(covidfaq); err == nil {
		dirs = append(dirs, covidfaq)
	} else {
		t.Logf("covidfaq not measured: %v", err)
	}
	for _, dir := range dirs {
		s, err := setFromDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(s.Name, func(t *testing.T) {
			rep, err := measure(s, "en", false, search.Ranking{})
			if err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + table(rep.Rows))
			byEngine := map[string]map[string]row{} // file → engine → row
			var files []string
			for _, r := range rep.Rows {
				if byEngine[r.File] == nil {
					byEngine[r.File] = map[string]row{}
					files = append(files, r.File)
				}
				byEngine[r.File][r.Engine] = r
			}
			for _, file := range files {
				rows := byEngine[file]
				portal, bm := rows[enginePortal], rows[engineBM25]
				if portal.N == 0 || bm.N == 0 {
					t.Fatalf("%s: missing rows: %v", file, rows)
				}
				if portal.R5 < bm.R5-0.005 {
					t.Errorf("%s: portal Recall@5 %.3f below plain BM25 %.3f", file, portal.R5, bm.R5)
				}
				// MRR: the portal is 0.014 below plain BM25 on the tldr
				// drafts (docs/benchmarks.md, issue 13), a known gap this
				// bound keeps from growing.
				if portal.MRR < bm.MRR-0.015 {
					t.Errorf("%s: portal MRR@10 %.3f below plain BM25 %.3f", file, portal.MRR, bm.MRR)
				}
				if sp, ok := rows[enginePortalSearch]; ok && portal.R5 < sp.R5-0.01 {
					t.Errorf("%s: drafting (DraftQuery) Recall@5 %.3f more than 0.01 below the search path's %.3f", file, portal.R5, sp.R5)
				}
				if dp, ok := rows[enginePortalDraft]; ok && dp.R5 < portal.R5-0.01 {
					t.Errorf("%s: the questions as drafts (DraftQuery) Recall@5 %.3f more than 0.01 below searching them, %.3f", file, dp.R5, portal.R5)
				}
			}
		})
	}
}

// TestMeasureSmallSet checks the tool itself on a set small enough to know
// the answers: a folder in the bench/devsets layout, every engine finding
// the one article that holds the question's words.
func TestMeasureSmallSet(t *testing.T) {
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	if err := os.Mkdir(docs, 0o755); err != nil {
		t.Fatal(err)
	}
	articles := map[string]string{
		"invoice":  "---\ntitle: \"Download an invoice\"\nid: \"invoice\"\n---\n\nInvoices are listed under Billing; each one downloads as a PDF.\n",
		"password": "---\ntitle: \"Reset your password\"\nid: \"password\"\n---\n\nUse the forgotten password link on the sign-in page to get a reset email.\n",
		"webhook":  "---\ntitle: \"Webhooks\"\nid: \"webhook\"\n---\n\nA webhook posts each new ticket to your URL; failed deliveries are retried.\n",
	}
	for slug, text := range articles {
		if err := os.WriteFile(filepath.Join(docs, slug+".md"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("queries.tsv", "where do I download my invoices as pdf\tinvoice\nforgotten password reset email\tpassword\n")
	write("drafts.tsv", "Hi, our webhook deliveries failed for every new ticket. Thanks, Anna\twebhook\n")

	s, err := setFromDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := measure(s, "en", true, search.Ranking{})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + table(rep.Rows))
	engines := map[string]bool{}
	for _, r := range rep.Rows {
		engines[r.File+"/"+r.Engine] = true
		if r.R5 != 1 || r.MRR != 1 || r.Wrong != 0 || r.None != 0 {
			t.Errorf("%s/%s: R@5 %.3f MRR %.3f wrong %d none %d, want the right article first for every text", r.File, r.Engine, r.R5, r.MRR, r.Wrong, r.None)
		}
	}
	for _, want := range []string{"queries/" + enginePortal, "queries/" + enginePortalDraft, "queries/" + engineBM25, "drafts/" + enginePortal, "drafts/" + enginePortalSearch, "drafts/" + engineBM25} {
		if !engines[want] {
			t.Errorf("no row for %s", want)
		}
	}
	if len(rep.Ablation) == 0 {
		t.Error("-ablate measured no feature")
	}
}
