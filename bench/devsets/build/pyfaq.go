package main

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

const (
	pyfaqEntries  = 125 // articles in the set
	pyfaqMinWords = 40  // shorter answers are pointers elsewhere, not answers
)

// pyfaqPages are the FAQ's pages, in the order of its index.
var pyfaqPages = []string{"general", "programming", "design", "library", "extending", "windows", "gui", "installed"}

// pyfaqQuestions is questions.yaml: for each entry, the questions a user
// would type and one ticket draft, written from the answer.
type pyfaqQuestions map[string]struct {
	Questions []string `yaml:"questions"`
	Draft     string   `yaml:"draft"`
}

// buildPyFAQ makes the "pyfaq" set from the Python FAQ's HTML (Debian's
// python3.X-doc, html/faq/) and bench/devsets/pyfaq/questions.yaml. With
// no questions.yaml yet it lists the chosen entries, to write them.
func buildPyFAQ(faqDir, dir string) error {
	entries, err := chosenPyFAQ(faqDir)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "questions.yaml"))
	if os.IsNotExist(err) {
		for _, a := range entries {
			fmt.Printf("=== %s\n# %s\n\n%s\n\n", a.Slug, a.Title, a.Body)
		}
		return fmt.Errorf("build: pyfaq: no %s: the entries to write questions for are listed above", filepath.Join(dir, "questions.yaml"))
	}
	if err != nil {
		return fmt.Errorf("build: pyfaq: %w", err)
	}
	var qs pyfaqQuestions
	if err := yaml.Unmarshal(raw, &qs); err != nil {
		return fmt.Errorf("build: pyfaq: questions.yaml: %w", err)
	}
	var queries, drafts []labelled
	known := map[string]bool{}
	for _, a := range entries {
		known[a.Slug] = true
		q, ok := qs[a.Slug]
		if !ok || len(q.Questions) == 0 || strings.TrimSpace(q.Draft) == "" {
			return fmt.Errorf("build: pyfaq: questions.yaml has no questions or no draft for %s", a.Slug)
		}
		for _, text := range q.Questions {
			queries = append(queries, labelled{text, a.Slug})
		}
		drafts = append(drafts, labelled{q.Draft, a.Slug})
	}
	for id := range qs {
		if !known[id] {
			return fmt.Errorf("build: pyfaq: questions.yaml has %s, which is not a chosen entry", id)
		}
	}
	fmt.Printf("pyfaq: %d articles, %d questions, %d drafts\n", len(entries), len(queries), len(drafts))
	return writeSet(dir, entries, queries, drafts)
}

// chosenPyFAQ is the set's articles: of the entries whose answer has at
// least pyfaqMinWords words, the first pyfaqEntries by a hash of their slug.
func chosenPyFAQ(faqDir string) ([]article, error) {
	var all []article
	for _, page := range pyfaqPages {
		raw, err := os.ReadFile(filepath.Join(faqDir, page+".html"))
		if err != nil {
			return nil, fmt.Errorf("build: pyfaq: %w", err)
		}
		for _, a := range faqEntries(page, string(raw)) {
			if len(strings.Fields(a.Body)) >= pyfaqMinWords {
				all = append(all, a)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		hi, hj := hash64(all[i].Slug), hash64(all[j].Slug)
		if hi != hj {
			return hi < hj
		}
		return all[i].Slug < all[j].Slug
	})
	if len(all) > pyfaqEntries {
		all = all[:pyfaqEntries]
	}
	return all, nil
}

var (
	sectionStart = regexp.MustCompile(`<section id="([^"]+)">`)
	heading      = regexp.MustCompile(`(?s)<h([1-6])[^>]*>(.*?)</h[1-6]>`)
	preBlock     = regexp.MustCompile(`(?s)<pre>(.*?)</pre>`)
	listItem     = regexp.MustCompile(`<li[^>]*>`)
	blockEnd     = regexp.MustCompile(`</(p|div|li|ul|ol|dl|dd|dt|table|tr|blockquote)>`)
	anyTag       = regexp.MustCompile(`(?s)<[^>]+>`)
	blankLines   = regexp.MustCompile(`\n{3,}`)
)

// faqEntries cuts a Sphinx FAQ page into entries: a section below the
// page's title (h1) whose own text, before any nested section, is the
// answer to its heading.
func faqEntries(page, doc string) []article {
	var out []article
	starts := sectionStart.FindAllStringSubmatchIndex(doc, -1)
	for i, m := range starts {
		id := doc[m[2]:m[3]]
		end := len(doc)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		sec := doc[m[1]:end]
		if j := strings.Index(sec, "</section>"); j >= 0 {
			sec = sec[:j]
		}
		h := heading.FindStringSubmatchIndex(sec)
		if h == nil || sec[h[2]:h[3]] == "1" {
			continue
		}
		title := strings.TrimSuffix(strings.TrimSpace(html.UnescapeString(anyTag.ReplaceAllString(sec[h[4]:h[5]], ""))), "¶")
		body := toMarkdown(sec[h[1]:])
		if body == "" {
			continue
		}
		out = append(out, article{Slug: page + "-" + id, Title: strings.TrimSpace(title), Body: body})
	}
	return out
}

// toMarkdown keeps the text of an answer: paragraphs, list items and code
// blocks (fenced); links and inline markup become plain text.
func toMarkdown(s string) string {
	var codes []string
	s = preBlock.ReplaceAllStringFunc(s, func(m string) string {
		code := html.UnescapeString(anyTag.ReplaceAllString(preBlock.FindStringSubmatch(m)[1], ""))
		codes = append(codes, "\n\n```\n"+strings.TrimRight(code, "\n ")+"\n```\n\n")
		return fmt.Sprintf("\x00%d\x00", len(codes)-1)
	})
	s = listItem.ReplaceAllString(s, "\n- ")
	s = blockEnd.ReplaceAllString(s, "\n\n")
	s = html.UnescapeString(anyTag.ReplaceAllString(s, ""))
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "- ") {
			lines = append(lines, strings.TrimSpace(l))
		} else {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
	}
	s = strings.Join(lines, "\n")
	for i, c := range codes {
		s = strings.Replace(s, fmt.Sprintf("\x00%d\x00", i), c, 1)
	}
	return strings.TrimSpace(blankLines.ReplaceAllString(s, "\n\n"))
}
