// Package benchquery makes the queries the benchmark tools send: what a
// customer would type, drawn from the knowledge base being measured.
package benchquery

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"strings"

	"github.com/orbitask/portal/kb"
)

// Query is one benchmark query in the language of the article it came from.
type Query struct {
	Text string
	Lang string
}

// Sample takes two or three consecutive words from the description and
// title of n random articles (the same n for the same seed).
func Sample(k *kb.KB, n int, seed int64) []Query {
	rng := rand.New(rand.NewSource(seed))
	var out []Query
	for len(out) < n && len(k.Articles) > 0 {
		a := k.Articles[rng.Intn(len(k.Articles))]
		words := strings.Fields(a.Description + " " + a.Title)
		if len(words) < 2 {
			continue
		}
		w := 2 + rng.Intn(2)
		start := rng.Intn(max(1, len(words)-w))
		out = append(out, Query{strings.Join(words[start:min(len(words), start+w)], " "), a.Lang})
	}
	return out
}

// ReadTSV returns the distinct non-empty first columns of a TSV file (a
// labelled set's questions, `query<TAB>article`), in file order.
func ReadTSV(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("benchquery: %w", err)
	}
	defer f.Close()
	seen := map[string]bool{}
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		q, _, _ := strings.Cut(sc.Text(), "\t")
		if q = strings.TrimSpace(q); q != "" && !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("benchquery: %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("benchquery: %s: no questions", path)
	}
	return out, nil
}
