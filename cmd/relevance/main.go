// Command relevance measures the portal's search on labelled sets and, in
// the same run on the same articles, plain Bleve BM25 (the baseline the
// portal must not fall below) and a SQLite FTS5 peer (porter tokenizer,
// bm25, title weight 3; only when built with the sqlite_fts5 tag).
//
// A set is a folder with docs/ (Markdown articles) and queries.tsv and/or
// drafts.tsv (`text<TAB>article-slug`), as under bench/devsets:
//
//	go run -tags sqlite_fts5 ./cmd/relevance bench/devsets/tldr bench/devsets/pyfaq ../shared/bench/covidfaq
//	go run ./cmd/relevance -docs ../shared/bench/covidfaq/docs ../shared/bench/covidfaq/queries.tsv
//
// Drafts are measured as drafting shows them, through search.DraftQuery
// (Recall@5 from a limit-5 run, MRR@10 from a limit-10 run of the same
// query), and also through the search path. -ablate turns each ranking
// feature off in turn and prints what that changes.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/orbitask/portal/search"
)

func main() {
	docs := flag.String("docs", "", "folder of Markdown articles; the arguments are then TSV files, not set folders")
	lang := flag.String("lang", "en", "language of the articles and queries")
	ablate := flag.Bool("ablate", false, "also measure the portal with each ranking feature off")
	verbose := flag.Bool("v", false, "print the texts the portal misses at 5")
	off := flag.String("off", "", "comma-separated ranking features to turn off in the portal (see -ablate)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: relevance [-lang en] [-ablate] [-v] SETDIR...\n       relevance -docs DIR [-lang en] SET.tsv...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	var sets []labelledSet
	if *docs != "" {
		name := filepath.Base(filepath.Clean(*docs))
		if name == "docs" {
			name = filepath.Base(filepath.Dir(filepath.Clean(*docs)))
		}
		sets = append(sets, labelledSet{Name: name, Docs: *docs, Files: flag.Args()})
	} else {
		for _, dir := range flag.Args() {
			s, err := setFromDir(dir)
			if err != nil {
				fmt.Fprintln(os.Stderr, "relevance:", err)
				os.Exit(2)
			}
			sets = append(sets, s)
		}
	}
	var base search.Ranking
	if *off != "" {
		base.Off = strings.Split(*off, ",")
	}
	if err := base.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "relevance:", err)
		os.Exit(2)
	}
	var all report
	for _, s := range sets {
		rep, err := measure(s, *lang, *ablate, base)
		if err != nil {
			fmt.Fprintln(os.Stderr, "relevance:", err)
			os.Exit(1)
		}
		all.Rows = append(all.Rows, rep.Rows...)
		all.Ablation = append(all.Ablation, rep.Ablation...)
		if *verbose {
			for _, r := range rep.Rows {
				if r.Engine == enginePortal {
					for _, m := range r.Misses {
						fmt.Fprintf(os.Stderr, "MISS %s/%s\t%s\n", r.Set, r.File, m)
					}
				}
			}
		}
	}
	printRows(os.Stdout, all.Rows)
	if *ablate {
		fmt.Println()
		printAblation(os.Stdout, all.Ablation)
	}
}

// printRows writes the figures as a Markdown table. "shown, none right"
// and "none shown" count texts: a customer who sees only wrong
// suggestions, or none.
func printRows(w io.Writer, rows []row) {
	if fts5Note != "" {
		fmt.Fprintf(w, "(%s)\n\n", fts5Note)
	}
	fmt.Fprintln(w, "| set | file | engine | texts | Recall@5 | MRR@10 | shown, none right | none shown |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %d | %.3f | %.3f | %d | %d |\n", r.Set, r.File, r.Engine, r.N, r.R5, r.MRR, r.Wrong, r.None)
	}
}

// printAblation writes, per set and file, what turning each feature off
// changes: a negative delta means the feature helps there.
func printAblation(w io.Writer, ds []delta) {
	fmt.Fprintln(w, "| set | file | feature off | ΔRecall@5 | ΔMRR@10 |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, d := range ds {
		fmt.Fprintf(w, "| %s | %s | %s | %+.3f | %+.3f |\n", d.Set, d.File, d.Feature, d.R5, d.MRR)
	}
}

// table is printRows into a string, for the test's log.
func table(rows []row) string {
	var b strings.Builder
	printRows(&b, rows)
	return b.String()
}
