package search

import (
	"html"
	"html/template"
	"strings"
	"unicode/utf8"

	"github.com/orbitask/portal/kb"
)

const (
	snippetChars = 200
	snippetLead  = 50
	snippetScan  = 30000 // bytes of an article examined for a snippet
)

// snippet picks the passage of the article that holds the most distinct
// query terms, escapes it and marks the matches.
func (ix *Index) snippet(a *kb.Article, an string, terms map[string]bool, q Query) template.HTML {
	text := a.Text
	if len(text) > snippetScan {
		text = text[:snippetScan]
		for !utf8.ValidString(text) {
			text = text[:len(text)-1]
		}
	}
	prefix := ""
	if q.Prefix {
		prefix = lastWord(q.Text)
	}
	type match struct {
		start, end int
		term       string
	}
	var ms []match
	for _, t := range ix.tokens(an, text) {
		term := string(t.Term)
		if terms[term] || (prefix != "" && strings.HasPrefix(strings.ToLower(text[t.Start:t.End]), prefix)) {
			ms = append(ms, match{t.Start, t.End, term})
		}
	}
	if len(ms) == 0 {
		if d := a.Description; d != "" {
			return template.HTML(html.EscapeString(d))
		}
		return template.HTML(html.EscapeString(cut(text, 0, snippetChars)))
	}
	// Best window: most distinct terms, then most matches.
	best, bestDistinct, bestCount := 0, 0, 0
	for i := range ms {
		distinct := map[string]bool{}
		count := 0
		for j := i; j < len(ms) && ms[j].end-ms[i].start <= snippetChars-snippetLead; j++ {
			distinct[ms[j].term] = true
			count++
		}
		if len(distinct) > bestDistinct || (len(distinct) == bestDistinct && count > bestCount) {
			best, bestDistinct, bestCount = i, len(distinct), count
		}
	}
	from := wordStart(text, ms[best].start-snippetLead)
	to := wordEnd(text, from+snippetChars)
	var b strings.Builder
	if from > 0 {
		b.WriteString("… ")
	}
	pos := from
	for _, m := range ms[best:] {
		if m.start < pos {
			continue
		}
		if m.end > to {
			break
		}
		b.WriteString(html.EscapeString(text[pos:m.start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[m.start:m.end]))
		b.WriteString("</mark>")
		pos = m.end
	}
	b.WriteString(html.EscapeString(text[pos:to]))
	if to < len(text) {
		b.WriteString(" …")
	}
	return template.HTML(b.String())
}

// wordStart moves i back to the start of a word (never below 0).
func wordStart(s string, i int) int {
	if i <= 0 {
		return 0
	}
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	if sp := strings.LastIndexByte(s[:i], ' '); sp >= 0 && i-sp < 20 {
		return sp + 1
	}
	return i
}

// wordEnd moves i forward to the end of a word (never past len(s)).
func wordEnd(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	if sp := strings.IndexByte(s[i:], ' '); sp >= 0 && sp < 20 {
		return i + sp
	}
	return i
}

func cut(s string, from, n int) string {
	return s[from:wordEnd(s, from+n)]
}
