// Command build writes the development sets under bench/devsets from their
// sources, deterministically and without the network: the same inputs give
// the same files, byte for byte.
//
//	go run ./bench/devsets/build tldr ../shared/bench/tldr-corpus.tar.gz
//	go run ./bench/devsets/build pyfaq /tmp/py/usr/share/doc/python3.11-doc/html/faq
//
// Each set gets docs/*.md (front matter title and id), queries.tsv and
// drafts.tsv (`text<TAB>article-slug`); SOURCE.md and LICENSE are written by
// hand and say where the data comes from.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	out := flag.String("out", "bench/devsets", "folder holding the sets")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: build [-out DIR] tldr TARBALL | pyfaq FAQ-HTML-DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	var err error
	switch flag.Arg(0) {
	case "tldr":
		err = buildTLDR(flag.Arg(1), filepath.Join(*out, "tldr"))
	case "pyfaq":
		err = buildPyFAQ(flag.Arg(1), filepath.Join(*out, "pyfaq"))
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// article is one document of a set.
type article struct {
	Slug  string
	Title string
	Body  string // Markdown
}

// labelled is one question (or draft) and the article that answers it.
type labelled struct {
	Text string
	Slug string
}

// writeSet replaces the set's docs/, queries.tsv and drafts.tsv.
func writeSet(dir string, docs []article, queries, drafts []labelled) error {
	docDir := filepath.Join(dir, "docs")
	if err := os.RemoveAll(docDir); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if err := os.MkdirAll(docDir, 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].Slug < docs[j].Slug })
	for _, a := range docs {
		text := fmt.Sprintf("---\ntitle: %s\nid: %s\n---\n\n%s\n", strconv.Quote(a.Title), strconv.Quote(a.Slug), strings.TrimSpace(a.Body))
		if err := os.WriteFile(filepath.Join(docDir, a.Slug+".md"), []byte(text), 0o644); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	if err := writeTSV(filepath.Join(dir, "queries.tsv"), queries); err != nil {
		return err
	}
	return writeTSV(filepath.Join(dir, "drafts.tsv"), drafts)
}

func writeTSV(path string, rows []labelled) error {
	var b strings.Builder
	for _, r := range rows {
		text := strings.Join(strings.Fields(strings.ReplaceAll(r.Text, "\t", " ")), " ")
		fmt.Fprintf(&b, "%s\t%s\n", text, r.Slug)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	return nil
}

// normal is text as compared for "does this question appear in an
// article": lower case, single spaces.
func normal(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
