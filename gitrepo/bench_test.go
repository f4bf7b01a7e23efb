package gitrepo_test

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orbitask/portal/gitrepo"
)

// Reading a whole knowledge base of 10,000 articles out of a commit: one
// ls-tree, then every blob through the one cat-file process.
func BenchmarkTreeReadAll10k(b *testing.B) {
	b.Run("one-by-one", func(b *testing.B) { benchmarkTreeRead(b, false) })
	b.Run("preloaded", func(b *testing.B) { benchmarkTreeRead(b, true) })
}

func benchmarkTreeRead(b *testing.B, preload bool) {
	ctx := context.Background()
	src := b.TempDir()
	files := map[string]string{}
	for i := range 10000 {
		files[fmt.Sprintf("%s/cat%02d/article-%05d.md", []string{"en", "fr", "de", "cs"}[i%4], i%50, i)] =
			fmt.Sprintf("---\ntitle: Article %d\n---\n%s", i, strings.Repeat("Some words of the article. ", 80))
	}
	writeFiles(b, src, files)
	r, err := gitrepo.Open(ctx, gitrepo.Config{Dir: filepath.Join(b.TempDir(), "c.git"), InitFrom: src})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	head, _ := r.Head(ctx)
	b.ResetTimer()
	for b.Loop() {
		tree, err := r.Tree(ctx, head)
		if err != nil {
			b.Fatal(err)
		}
		if preload {
			if err := tree.Preload(1 << 20); err != nil {
				b.Fatal(err)
			}
		}
		fsys := tree.FS()
		n := 0
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			_, err = fs.ReadFile(fsys, p)
			n++
			return err
		})
		if err != nil || n != 10000 {
			b.Fatalf("read %d files: %v", n, err)
		}
	}
}

// Provenance over 10,000 commits on 1,000 files, one in fifty a rename.
func BenchmarkProvenance10kCommits(b *testing.B) {
	ctx := context.Background()
	src := b.TempDir()
	writeFiles(b, src, map[string]string{"README.md": "x"})
	r, err := gitrepo.Open(ctx, gitrepo.Config{Dir: filepath.Join(b.TempDir(), "c.git"), InitFrom: src})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var stream strings.Builder
	name := func(f, gen int) string { return fmt.Sprintf("en/a%04d-%d.md", f, gen) }
	gen := make([]int, 1000)
	for i := range 10000 {
		f := i % 1000
		fmt.Fprintf(&stream, "commit refs/heads/main\ncommitter Author%d <a%d@example.com> %d +0000\ndata 6\nchange\n", i%7, i%7, 1700000000+i)
		if i == 0 {
			stream.WriteString("from refs/heads/main^0\n")
		}
		if i >= 1000 && i%50 == 0 {
			old := name(f, gen[f])
			gen[f]++
			fmt.Fprintf(&stream, "R %s %s\n", old, name(f, gen[f]))
		}
		body := fmt.Sprintf("file %d version %d\n%s", f, i, strings.Repeat("stable text of the article\n", 30))
		fmt.Fprintf(&stream, "M 100644 inline %s\ndata %d\n%s\n", name(f, gen[f]), len(body), body)
	}
	cmd := gitCmd(b, r.Dir(), "--git-dir="+r.Dir(), "fast-import", "--quiet")
	cmd.Stdin = strings.NewReader(stream.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("fast-import: %v\n%s", err, out)
	}
	head, _ := r.Head(ctx)
	b.ResetTimer()
	for b.Loop() {
		prov, err := r.Provenance(ctx, head)
		if err != nil {
			b.Fatal(err)
		}
		if len(prov) != 1001 || len(prov[name(1, gen[1])].Authors) == 0 {
			b.Fatalf("provenance of %d files", len(prov))
		}
	}
}
