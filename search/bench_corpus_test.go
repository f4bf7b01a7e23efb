package search

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/orbitask/portal/kb"
)

// BenchmarkSearchCorpus runs real customers' questions (the first column of
// PORTAL_BENCH_QUERIES, e.g. ../shared/bench/covidfaq/queries.tsv) against a
// large content tree (PORTAL_BENCH_CONTENT, e.g. the English tldr pages),
// cache off: the long tail of distinct questions a portal really gets.
// cmd/searchbench reports percentiles beside the FTS5 peer.
func BenchmarkSearchCorpus(b *testing.B) {
	content, queries := os.Getenv("PORTAL_BENCH_CONTENT"), os.Getenv("PORTAL_BENCH_QUERIES")
	if content == "" || queries == "" {
		b.Skip("set PORTAL_BENCH_CONTENT and PORTAL_BENCH_QUERIES to run")
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
	f, err := os.Open(queries)
	if err != nil {
		b.Fatal(err)
	}
	var qs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if q, _, _ := strings.Cut(sc.Text(), "\t"); strings.TrimSpace(q) != "" {
			qs = append(qs, q)
		}
	}
	f.Close()
	for _, mode := range []struct {
		name string
		q    func(string) Query
	}{
		{"search", func(t string) Query { return Query{Text: t, Lang: "en", Limit: 10} }},
		{"draft", func(t string) Query { return DraftQuery(t, "en", 5) }},
	} {
		b.Run(mode.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := ix.Search(context.Background(), mode.q(qs[i%len(qs)])); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
