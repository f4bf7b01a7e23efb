package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

const (
	tldrPages       = 250 // pages in the set
	tldrMinExamples = 5   // fewer leave too little to hold out
	minQueryWords   = 3   // "Display help" says nothing about a page
)

// tldrPage is one English tldr page as the corpus tarball holds it.
type tldrPage struct {
	Platform, Name, Description string
	Examples                    []tldrExample
}

type tldrExample struct{ Task, Command string }

// buildTLDR makes the "tldr" set: each article is a page's name, its
// description and the first half of its examples; the tasks of the other
// half are the questions, so a question is never the text of its article.
func buildTLDR(tarball, dir string) error {
	pages, err := readTLDR(tarball)
	if err != nil {
		return err
	}
	// A task written on more than one page ("Display the version") names
	// no page; such tasks are not questions.
	pagesOf := map[string]map[string]bool{}
	for _, p := range pages {
		for _, e := range p.Examples {
			t := normal(e.Task)
			if pagesOf[t] == nil {
				pagesOf[t] = map[string]bool{}
			}
			pagesOf[t][p.Platform+"/"+p.Name] = true
		}
	}

	var chosen []tldrPage
	for _, p := range pages {
		if (p.Platform == "common" || p.Platform == "linux") && len(p.Examples) >= tldrMinExamples {
			chosen = append(chosen, p)
		}
	}
	sort.Slice(chosen, func(i, j int) bool {
		hi, hj := hash64(chosen[i].Platform+"/"+chosen[i].Name), hash64(chosen[j].Platform+"/"+chosen[j].Name)
		if hi != hj {
			return hi < hj
		}
		return chosen[i].Name < chosen[j].Name
	})

	var docs []article
	held := map[string][]string{} // slug → held-out tasks
	taken := map[string]bool{}
	for _, p := range chosen {
		if len(docs) == tldrPages {
			break
		}
		slug := slugOf(p.Name)
		if taken[slug] {
			continue
		}
		taken[slug] = true
		shown := (len(p.Examples) + 1) / 2
		var b strings.Builder
		fmt.Fprintf(&b, "%s\n", p.Description)
		for _, e := range p.Examples[:shown] {
			fmt.Fprintf(&b, "\n- %s:\n\n  `%s`\n", e.Task, e.Command)
		}
		docs = append(docs, article{Slug: slug, Title: p.Name, Body: b.String()})
		for _, e := range p.Examples[shown:] {
			if len(pagesOf[normal(e.Task)]) == 1 {
				held[slug] = append(held[slug], e.Task)
			}
		}
	}

	texts := make([]string, len(docs))
	for i, a := range docs {
		texts[i] = normal(a.Title + "\n" + a.Body)
	}
	inArticle := func(q string) bool {
		q = normal(q)
		for _, t := range texts {
			if strings.Contains(t, q) {
				return true
			}
		}
		return false
	}

	var queries, drafts []labelled
	dropped := map[string]int{}
	for _, a := range docs {
		var kept []string
		for _, q := range held[a.Slug] {
			switch {
			case len(strings.Fields(q)) < minQueryWords:
				dropped["fewer than 3 words"]++
			case inArticle(q):
				dropped["verbatim in an article"]++
			default:
				kept = append(kept, q)
				queries = append(queries, labelled{q, a.Slug})
			}
		}
		for i := 0; i+1 < len(kept); i += 2 {
			key := a.Slug + "#" + strconv.Itoa(i)
			drafts = append(drafts, labelled{wrap(key, twoNeeds(key, kept[i], kept[i+1])), a.Slug})
		}
	}
	fmt.Printf("tldr: %d articles, %d questions, %d drafts (left out: %v)\n", len(docs), len(queries), len(drafts), dropped)
	return writeSet(dir, docs, queries, drafts)
}

// readTLDR reads the English pages of the corpus tarball
// (docs/en/<platform>/<name>.md).
func readTLDR(tarball string) ([]tldrPage, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return nil, fmt.Errorf("build: tldr: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("build: tldr: %w", err)
	}
	tr := tar.NewReader(gz)
	var pages []tldrPage
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("build: tldr: %w", err)
		}
		parts := strings.Split(strings.TrimPrefix(path.Clean(h.Name), "./"), "/")
		if h.Typeflag != tar.TypeReg || len(parts) != 4 || parts[0] != "docs" || parts[1] != "en" || !strings.HasSuffix(parts[3], ".md") {
			continue
		}
		p, err := parseTLDR(tr)
		if err != nil {
			return nil, fmt.Errorf("build: tldr: %s: %w", h.Name, err)
		}
		p.Platform, p.Name = parts[2], strings.TrimSuffix(parts[3], ".md")
		pages = append(pages, p)
	}
	sort.Slice(pages, func(i, j int) bool {
		return pages[i].Platform+"/"+pages[i].Name < pages[j].Platform+"/"+pages[j].Name
	})
	return pages, nil
}

var (
	// tldr marks the letters behind an option's name: "E[x]tract a [f]ile".
	letterMark  = regexp.MustCompile(`\[([^\]\s]{1,3})\]`)
	placeholder = regexp.MustCompile(`\{\{([^}]*)\}\}`)
)

// parseTLDR reads a page: the description from the front matter, then the
// examples, each a "- Task:" line followed by a "`command`" line.
func parseTLDR(r io.Reader) (tldrPage, error) {
	var p tldrPage
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	fences := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "---":
			fences++
		case fences == 1 && strings.HasPrefix(line, "description:"):
			v := strings.TrimSpace(strings.TrimPrefix(line, "description:"))
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
			p.Description = v
		case fences >= 2 && strings.HasPrefix(line, "- "):
			task := strings.TrimSuffix(strings.TrimSpace(line[2:]), ":")
			task = letterMark.ReplaceAllString(task, "$1")
			task = strings.ReplaceAll(placeholder.ReplaceAllString(task, "$1"), "`", "")
			p.Examples = append(p.Examples, tldrExample{Task: task})
		case fences >= 2 && strings.HasPrefix(line, "`") && len(p.Examples) > 0:
			p.Examples[len(p.Examples)-1].Command = strings.Trim(line, "`")
		}
	}
	return p, sc.Err()
}

func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

var notSlug = regexp.MustCompile(`[^a-z0-9_-]+`)

// slugOf keeps a page name usable as a file name and slug ("python3.11"
// becomes "python3-11").
func slugOf(name string) string {
	return strings.Trim(notSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
}
