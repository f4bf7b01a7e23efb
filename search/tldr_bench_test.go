package search

import (
	"context"
	"os"
	"testing"

	"github.com/orbitask/portal/internal/benchquery"
	"github.com/orbitask/portal/kb"
)

// BenchmarkSearchTldr is cmd/searchbench's portal measurement in go test
// form, for a CPU profile of one path:
//
//	go test ./search -run '^$' -bench SearchTldr/search -cpuprofile /tmp/search.prof
//
// It searches the English tldr pages (PORTAL_BENCH_CONTENT, default
// /tmp/tldr/docs/en) with the covidfaq questions and drafts
// (PORTAL_BENCH_QUERIES and PORTAL_BENCH_DRAFTS, default those in
// ../../shared/bench/covidfaq), the result cache off; it is skipped when
// they are missing.
func BenchmarkSearchTldr(b *testing.B) {
	env := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	content := env("PORTAL_BENCH_CONTENT", "/tmp/tldr/docs/en")
	queries := env("PORTAL_BENCH_QUERIES", "../../shared/bench/covidfaq/queries.tsv")
	drafts := env("PORTAL_BENCH_DRAFTS", "../../shared/bench/covidfaq/drafts.tsv")
	for _, p := range []string{content, queries, drafts} {
		if _, err := os.Stat(p); err != nil {
			b.Skipf("%v (unpack ../shared/bench/tldr-corpus.tar.gz into /tmp/tldr, or set PORTAL_BENCH_*)", err)
		}
	}
	k, err := kb.Load(content)
	if err != nil {
		b.Fatal(err)
	}
	ix, _, err := Open(Config{Dir: b.TempDir(), CacheSize: -1}, k)
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	for _, c := range []struct {
		name, file string
		query      func(string) Query
	}{
		{"search", queries, func(t string) Query { return Query{Text: t, Lang: "en", Limit: 10} }},
		{"draft", drafts, func(t string) Query { return DraftQuery(t, "en", 5) }},
	} {
		texts, err := benchquery.ReadTSV(c.file)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			for i := 0; b.Loop(); i++ {
				if _, err := ix.Search(ctx, c.query(texts[i%len(texts)])); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
