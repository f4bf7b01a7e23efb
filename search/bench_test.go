package search

import (
	"context"
	"fmt"
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

// BenchmarkApply publishes n changed articles of a 5,000-article knowledge
// base: each iteration is one Apply, alternately to the changed content
// and back.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("changed=%d", n), func(b *testing.B) {
			content, k1 := generated(b, 5000)
			var changed []string
			for i := 0; i < n; i++ {
				writeArticle(b, content, i*(5000/n), "second")
				changed = append(changed, articleID(i*(5000/n)))
			}
			k2 := load(b, content)
			ix, _, err := Open(Config{Dir: b.TempDir()}, k1)
			if err != nil {
				b.Fatal(err)
			}
			defer ix.Close()
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := k2
				if i%2 == 1 {
					k = k1
				}
				if err := ix.Apply(ctx, k, changed, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if segs, err := ix.segmentCount(); err == nil {
				b.ReportMetric(float64(segs), "segments")
			}
		})
	}
}
