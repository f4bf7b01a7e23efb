package search

import (
	"html"
	"html/template"
	"strings"
	"unicode"
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
func (ix *Index) snippet(s *state, a *kb.Article, an string, terms map[string]bool, q Query) template.HTML {
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
	// Analysing a whole article per hit was half the cost of a search, so
	// only words that start like a query term (diacritics aside) are
	// analysed, one by one.
	keys := map[[8]byte]bool{}
	for t := range terms {
		keys[key2(t)] = true
	}
	if prefix != "" {
		keys[key2(prefix)] = true
	}
	var ms []match
	for start := 0; start < len(text); {
		wStart, wEnd := nextWord(text, start)
		if wStart < 0 {
			break
		}
		start = wEnd
		if !keys[key2(text[wStart:wEnd])] {
			continue
		}
		word := strings.ToLower(text[wStart:wEnd])
		if prefix != "" && strings.HasPrefix(word, prefix) {
			ms = append(ms, match{wStart, wEnd, prefix})
			continue
		}
		for _, t := range ix.wordTerms(s, an, text[wStart:wEnd]) {
			if terms[t] {
				ms = append(ms, match{wStart, wEnd, t})
				break
			}
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

// wordTerms returns what analyzer an makes of one word of an article. The
// words of the articles are few and repeat from query to query, so each is
// analysed once per generation (the cache grows with the articles'
// vocabulary, not with the queries).
func (ix *Index) wordTerms(s *state, an, word string) []string {
	key := an + "\x00" + word
	if v, ok := s.stems.Load(key); ok {
		return v.([]string)
	}
	terms := ix.terms(an, word)
	s.stems.Store(key, terms)
	return terms
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

// key2 is the first two letters of a word, lowercased and without
// diacritics: a cheap test of whether it could analyse to a given term. It
// allocates nothing for ASCII letters, the common case.
func key2(w string) [8]byte {
	var k [8]byte
	i, n := 0, 0
	for _, r := range w {
		if n == 2 {
			break
		}
		n++
		r = unicode.ToLower(r)
		if r < utf8.RuneSelf {
			k[i] = byte(r)
			i++
			continue
		}
		var buf [utf8.UTFMax]byte
		folded := foldASCII.Filter(buf[:utf8.EncodeRune(buf[:], r)])
		i += copy(k[i:], folded)
		if i >= len(k) {
			break
		}
	}
	return k
}

// nextWord finds the next run of letters, digits and apostrophes at or after
// from; it returns -1 when there is none.
func nextWord(s string, from int) (int, int) {
	start := -1
	for i := from; i < len(s); {
		var in bool
		size := 1
		if c := s[i]; c < utf8.RuneSelf { // most text: no decoding, no Unicode tables
			in = asciiWord[c]
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			in = unicode.IsLetter(r) || unicode.IsDigit(r) || r == '’' || unicode.Is(unicode.Mn, r)
		}
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			return start, i
		}
		i += size
	}
	if start < 0 {
		return -1, -1
	}
	return start, len(s)
}

// asciiWord says which ASCII characters belong to a word for nextWord.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '\''
	}
	return t
}()
