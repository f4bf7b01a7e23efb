package kb

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// benchTree writes a knowledge base of n generated articles in four
// languages, each linking to two others and showing an image, and returns
// the paths of the articles.
func benchTree(b *testing.B, n int) (string, []string) {
	b.Helper()
	dir := b.TempDir()
	langs := []string{"en", "de", "fr", "cs"}
	for _, l := range langs {
		write(b, dir, l+"/img/shot.png", "\x89PNG\x00fake")
	}
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("%s/cat%d/article-%d.md", langs[i%4], i%20, i)
	}
	words := strings.Repeat("The backup agent uploads encrypted snapshots to the storage bucket every night. ", 12)
	for i, p := range paths {
		write(b, dir, p, benchArticle(i, paths, words, 0))
	}
	return dir, paths
}

func benchArticle(i int, paths []string, words string, version int) string {
	l1 := paths[(i+4)%len(paths)]
	l2 := paths[(i+8)%len(paths)]
	return fmt.Sprintf("---\ntitle: Article %d about backups\ndescription: How to do thing %d.\ntags: [backup, restore]\ncategory: Category %d\n---\n"+
		"## Overview\n\n%s (version %d)\n\n## Steps\n\n1. Open the settings.\n2. See [the other](%s) and [another](%s#steps).\n\n![screenshot](../img/shot.png)\n\n```sh\norbitask backup create --all\n```\n",
		i, i, i%20, words, version, rel(paths[i], l1), rel(paths[i], l2))
}

// BenchmarkLoadFS5000 is the full load Update is compared with.
func BenchmarkLoadFS5000(b *testing.B) {
	dir, _ := benchTree(b, 5000)
	fsys := os.DirFS(dir)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := LoadFS(fsys, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdate5000 updates a knowledge base of 5,000 articles after 1,
// 100 or 1,000 of them were edited (writing the files is not timed).
func BenchmarkUpdate5000(b *testing.B) {
	dir, paths := benchTree(b, 5000)
	fsys := os.DirFS(dir)
	words := strings.Repeat("The backup agent uploads encrypted snapshots to the storage bucket every night. ", 12)
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("changed=%d", n), func(b *testing.B) {
			k, err := LoadFS(fsys, Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				changes := make([]Change, n)
				for j := range changes {
					at := (j * len(paths) / n) % len(paths)
					write(b, dir, paths[at], benchArticle(at, paths, words, i+1))
					changes[j] = Change{Path: paths[at]}
				}
				b.StartTimer()
				next, err := k.Update(fsys, changes)
				if err != nil {
					b.Fatal(err)
				}
				if len(next.Problems) != 0 || len(next.Articles) != len(paths) {
					b.Fatalf("%d problems, %d articles", len(next.Problems), len(next.Articles))
				}
				k = next
			}
		})
	}
}
