package search

import (
	"context"
	"testing"

	"github.com/orbitask/portal/internal/benchquery"
	"github.com/orbitask/portal/kb"
)

// BenchmarkSearch runs customers' queries over the bundled knowledge base
// without the result cache: planning, Bleve and a snippet per hit.
func BenchmarkSearch(b *testing.B) {
	k, err := kb.Load("../content")
	if err != nil {
		b.Fatal(err)
	}
	ix, _, err := Open(Config{Dir: b.TempDir(), CacheSize: -1}, k)
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	qs := benchquery.Sample(k, 200, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := qs[i%len(qs)]
		if _, err := ix.Search(context.Background(), Query{Text: q.Text, Lang: q.Lang}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReopen is a restart with unchanged content: the index is reused
// (and checked) rather than rebuilt.
func BenchmarkReopen(b *testing.B) {
	k, err := kb.Load("../content")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	ix, _, err := Open(Config{Dir: dir}, k)
	if err != nil {
		b.Fatal(err)
	}
	ix.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix, stats, err := Open(Config{Dir: dir}, k)
		if err != nil || stats.Rebuilt {
			b.Fatalf("reopen: rebuilt=%v (%s), %v", stats.Rebuilt, stats.Reason, err)
		}
		ix.Close()
	}
}
