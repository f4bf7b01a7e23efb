package search

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"runtime/debug"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/langtag"
)

// ErrInvalidQuery is wrapped by every error caused by a bad query parameter.
var ErrInvalidQuery = errors.New("invalid query")

// Limits on a query; a whole ticket draft fits comfortably.
const (
	MaxLimit     = 100
	MaxOffset    = 10000
	MaxTextBytes = 20000
)

// Query is one search. Text may be a few keywords or a whole ticket draft.
type Query struct {
	Text     string
	Lang     string // "" searches every language
	Category string // category name to filter on, optional
	Tag      string // tag to filter on, optional
	Limit    int    // 1..MaxLimit; 0 means 10
	Offset   int
	Prefix   bool // as-you-type: the last word may be unfinished
	// Draft marks a ticket draft being typed: a last word nothing ends and
	// no article has stands for its completions (the customer is typing
	// it), and no "did you mean" is computed.
	Draft   bool
	Facets  bool // count categories and tags of all matches
	Exclude string
	// NoFallback keeps a search in Lang to Lang alone. By default a search
	// in a language also shows, after that language's matches, the matches
	// of its fallback language (English unless the content tree says
	// otherwise) that have no translation in Lang among the results.
	NoFallback bool
	// MinCoverage drops hits that match less than this fraction of the
	// query's information (see Hit.Coverage); drafting sets it to
	// DraftFloor so that weak suggestions are not shown.
	MinCoverage float64
	// MinRelScore drops hits that score less than this fraction of the
	// best hit's score, the fallback language's hits included: drafting
	// sets it to DraftRelFloor, so that a language's weak matches do not
	// crowd out its fallback's strong one.
	MinRelScore float64
}

// DraftQuery is the query that finds the articles shown beside a ticket
// draft (POST /api/deflect and the drafting WebSocket); the relevance tool
// measures drafts through it.
func DraftQuery(text, lang string, limit int) Query {
	return Query{Text: text, Lang: lang, Limit: limit, Draft: true, MinCoverage: DraftFloor, MinRelScore: DraftRelFloor}
}

// Hit is one matching article.
type Hit struct {
	Article *kb.Article
	Score   float64
	Snippet template.HTML // escaped text with matches in <mark>
	// Fallback marks a hit in the fallback language of a search in another
	// language ("in English").
	Fallback bool
	// Coverage is the fraction, 0..1, of the query's information (the IDF
	// of its known terms) that the article contains; computed when the
	// query sets MinCoverage.
	Coverage float64
}

// Facet is one value of a facet with the number of matching articles.
type Facet struct {
	Name  string
	Count int
}

// Result is the answer to a Query.
type Result struct {
	Total      uint64
	Took       time.Duration
	Hits       []Hit
	Categories []Facet
	Tags       []Facet
	DidYouMean string // the query with unknown words corrected, if any
	// BelowFloor counts the hits left out because their coverage was below
	// Query.MinCoverage or their score below Query.MinRelScore: when it is
	// all of them, nothing was good enough (a content gap).
	BelowFloor int
}

// synonymGroup holds the analysed variants of one synonym group.
type synonymGroup [][]string

// analyse prepares what queries of s need of the analysis: each of its
// knowledge base's languages' noise words and synonym groups, analysed.
func (ix *Index) analyse(s *state) {
	k := s.kb
	s.synonyms, s.noise = map[string][]synonymGroup{}, map[string]map[string]bool{}
	langsOf := map[string]int{}
	for _, lang := range k.Languages() {
		an := analyzerFor(lang)
		langsOf[an]++
		if _, done := s.noise[an]; !done {
			s.analyzers = append(s.analyzers, an)
			s.noise[an] = ix.noiseTerms(an)
		}
		for _, g := range k.Synonyms.For(lang) {
			var sg synonymGroup
			for _, v := range g {
				if terms := ix.terms(an, v); len(terms) > 0 {
					sg = append(sg, terms)
				}
			}
			if len(sg) > 1 {
				s.synonyms[an] = append(s.synonyms[an], sg)
			}
		}
	}
	s.sharedAnalyzer = map[string]bool{}
	for an, n := range langsOf {
		s.sharedAnalyzer[an] = n > 1
	}
	s.vocab, s.spell, s.docs = map[string]*lazyDict{}, map[string]*lazyDict{}, map[string]int{}
	for _, an := range s.analyzers {
		fields := make([]string, len(fieldBoosts))
		for i, fb := range fieldBoosts {
			fields[i] = field(an, fb.name)
		}
		s.vocab[an] = &lazyDict{fields: fields}
		s.spell[an] = &lazyDict{fields: []string{field(an, fieldSpell)}}
	}
	for _, a := range k.Articles {
		s.docs[analyzerFor(a.Lang)]++
	}
}

// Validate checks the parts of a query a caller can get wrong.
func (q *Query) Validate() error {
	switch {
	case strings.TrimSpace(q.Text) == "":
		return fmt.Errorf("%w: q: must not be empty", ErrInvalidQuery)
	case len(q.Text) > MaxTextBytes:
		return fmt.Errorf("%w: q: longer than %d bytes", ErrInvalidQuery, MaxTextBytes)
	case !utf8.ValidString(q.Text):
		return fmt.Errorf("%w: q: not valid UTF-8", ErrInvalidQuery)
	case q.Limit < 0 || q.Limit > MaxLimit:
		return fmt.Errorf("%w: limit: must be between 1 and %d", ErrInvalidQuery, MaxLimit)
	case q.Offset < 0 || q.Offset > MaxOffset:
		return fmt.Errorf("%w: offset: must be between 0 and %d", ErrInvalidQuery, MaxOffset)
	}
	if q.Lang != "" {
		l, ok := langtag.Normalize(q.Lang)
		if !ok {
			return fmt.Errorf("%w: lang: unknown language %q", ErrInvalidQuery, q.Lang)
		}
		q.Lang = l
	}
	if q.Limit == 0 {
		q.Limit = 10
	}
	return nil
}

// normalize validates q and returns it as Search runs it: defaults applied,
// the language in its canonical spelling, and the text's runs of whitespace collapsed to one space (the
// analyzers split on whitespace, so spacing never changes a result). A
// trailing space stays (as one space) when Prefix or Draft is set, since it
// marks the last word as finished. Case is kept: "did you mean" repeats the words as typed. Two
// queries that normalise to the same value get the same result, so the
// normalised query is also the result cache's key.
func (q Query) normalize() (Query, error) {
	if err := q.Validate(); err != nil {
		return Query{}, err
	}
	text := strings.Join(strings.Fields(q.Text), " ")
	if last, _ := utf8.DecodeLastRuneInString(q.Text); (q.Prefix || q.Draft) && unicode.IsSpace(last) && text != "" {
		text += " "
	}
	q.Text = text
	return q, nil
}

// plan is the analysed form of a query.
type plan struct {
	matched map[string]map[string]bool // analyzer → the query's terms, for snippets
	cover   map[string]*coverage       // analyzer → the query's words, for Hit.Coverage
	q       query.Query
}

// Search runs q. A whole ticket draft is treated as a bag of words: any word
// may match, rarer words count more (BM25), greetings and signatures are
// dropped, and unknown words are matched fuzzily.
func (ix *Index) Search(ctx context.Context, q Query) (Result, error) {
	start := time.Now()
	q, err := q.normalize()
	if err != nil {
		return Result{}, err
	}
	// One pair answers, from its cache or its index, however long the
	// query takes and whatever Apply swaps in meanwhile.
	s := ix.acquire()
	defer s.release()
	if res, ok := s.cache.get(q); ok {
		res.Took = time.Since(start)
		return res, nil
	}
	res, complete, err := ix.searchWithFallback(ctx, s, q)
	if err != nil {
		return Result{}, err
	}
	// A result missing hits of a damaged index is not kept: the repaired
	// index will answer in full.
	if complete {
		s.cache.put(q, res)
	}
	res.Took = time.Since(start)
	return res, nil
}

// search runs a validated query against the index. It reports whether the
// result is complete, which it is not when hits had to be left out because
// the index is inconsistent with the knowledge base. A panic in Bleve (on
// damaged data it reads lazily) becomes an error; the damage is logged and
// repaired.
func (ix *Index) search(ctx context.Context, s *state, q Query) (res Result, complete bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			ix.damaged("query panicked", q, "panic", p, "stack", string(debug.Stack()))
			res, complete, err = Result{}, false, fmt.Errorf("search: %w: panic: %v", ErrDamaged, p)
		}
	}()
	if s.idx == nil { // a repair failed half-way, or the index is closed
		ix.startRepair("no index open")
		return Result{}, false, fmt.Errorf("search: %w: no index open", ErrDamaged)
	}
	// Bleve's errors here come from the index's data (the query is built
	// here, valid by construction), unless the caller gave up.
	failed := func(err error) (Result, bool, error) {
		if ctx.Err() == nil {
			ix.damaged("query failed", q, "err", err)
		}
		return Result{}, false, fmt.Errorf("search: %w", err)
	}
	adv, err := s.idx.Advanced()
	if err != nil {
		return failed(err)
	}
	reader, err := adv.Reader()
	if err != nil {
		return failed(err)
	}
	defer reader.Close()

	analyzers := s.analyzers
	if q.Lang != "" {
		analyzers = []string{analyzerFor(q.Lang)}
	}
	p, unknown := ix.plan(s, reader, analyzers, q)
	if p == nil {
		return res, true, nil
	}
	var filters []query.Query
	if q.Lang != "" && s.sharedAnalyzer[analyzerFor(q.Lang)] {
		// Other languages' articles share this analyzer's fields.
		filters = append(filters, filterTerm(q.Lang, fieldLang))
	}
	if q.Category != "" {
		filters = append(filters, s.categories.filter(q.Category, q.Lang))
	}
	if q.Tag != "" {
		filters = append(filters, filterTerm(q.Tag, fieldTagKeys))
	}
	top := p.q
	if len(filters) > 0 {
		top = bleve.NewConjunctionQuery(append([]query.Query{top}, filters...)...)
	}
	size := q.Limit
	if q.Exclude != "" {
		size++
	}
	if q.MinCoverage > 0 {
		// Hits below the floor are left out: fetch enough that good ones
		// further down still fill the page.
		size += 2 * q.Limit
	}
	req := bleve.NewSearchRequestOptions(top, size, q.Offset, false)
	if q.Facets {
		req.AddFacet("category", bleve.NewFacetRequest(fieldCategory, 20))
		req.AddFacet("tags", bleve.NewFacetRequest(fieldTagKeys, 20))
	}
	sr, err := s.idx.SearchInContext(ctx, req)
	if err != nil {
		return failed(err)
	}
	// Equal scores in the order of the articles' ids, not of where the
	// index happened to put them: the same query ranks the same after a
	// rebuild. (Bleve's sort by id loads every candidate's id: 5 % of a
	// search.)
	sort.SliceStable(sr.Hits, func(i, j int) bool {
		if sr.Hits[i].Score != sr.Hits[j].Score {
			return sr.Hits[i].Score > sr.Hits[j].Score
		}
		return sr.Hits[i].ID < sr.Hits[j].ID
	})
	res.Total = sr.Total
	var strays []string
	for _, h := range sr.Hits {
		a, ok := s.kb.ByID(h.ID)
		if !ok {
			strays = append(strays, h.ID)
			continue
		}
		if h.ID == q.Exclude {
			continue
		}
		if len(res.Hits) == q.Limit {
			break
		}
		an := analyzerFor(a.Lang)
		cov := 0.0
		if q.MinCoverage > 0 {
			cov = p.coverage(an).of(ix.articleTerms(s, a, an))
			if cov < q.MinCoverage {
				res.BelowFloor++
				continue
			}
		}
		terms, ok := p.matched[an]
		if !ok {
			terms = setOf(ix.terms(an, q.Text))
		}
		res.Hits = append(res.Hits, Hit{Article: a, Score: h.Score, Coverage: cov, Snippet: ix.snippet(s, a, an, terms, q)})
	}
	if q.Exclude != "" && res.Total > 0 {
		res.Total--
	}
	res.Total -= min(res.Total, uint64(res.BelowFloor))
	if len(strays) > 0 {
		// The index disagrees with the knowledge base it was built from.
		ix.damaged("hits unknown to the knowledge base", q, "ids", strays)
		res.Total -= min(res.Total, uint64(len(strays)))
	}
	if f, ok := sr.Facets["category"]; ok {
		res.Categories = s.categories.merge(facetValues(f), q.Lang)
	}
	if f, ok := sr.Facets["tags"]; ok {
		res.Tags = facetValues(f)
	}
	if len(unknown) > 0 && !q.Draft {
		res.DidYouMean = ix.didYouMean(s, reader, analyzers[0], q.Text, q.Prefix)
	}
	return res, len(strays) == 0, nil
}

// plan analyses q with each analyzer and builds one Bleve query over the
// union of the terms. Without a language, a word is looked up in every
// language's form of it; the same form is searched once.
func (ix *Index) plan(s *state, reader index.IndexReader, analyzers []string, q Query) (*plan, []string) {
	rk := ix.ranking
	p := &plan{matched: map[string]map[string]bool{}, cover: map[string]*coverage{}}
	analysed := map[string][]string{}
	for _, an := range analyzers {
		all := ix.terms(an, q.Text)
		analysed[an] = all
		m := map[string]bool{}
		for _, t := range all {
			if !rk.on(FeatureNoise) || !s.noise[an][t] {
				m[t] = true
			}
		}
		if len(m) == 0 { // nothing but greetings: search them rather than nothing
			m = setOf(all)
		}
		p.matched[an] = m
	}
	// Fuzzy matching costs a look-up per word, cheap, but a search over
	// every language fuzzes only the largest ones, and a long text (a
	// ticket draft) has enough real words to rank by.
	const fuzzyLanguages = 4
	maxFuzzyWords := 8
	if q.Draft {
		maxFuzzyWords = 4 // a draft's subject line, not its paragraphs
	}
	// A draft's last word may be unfinished: the customer is typing it.
	unfinished := ""
	if q.Draft {
		unfinished = unfinishedWord(q.Text)
	}
	var clauses []query.Query
	fuzzed := map[string]bool{}
	for i, an := range analyzers {
		// Which fields have a term: from the vocabulary in memory, or from
		// Bleve's dictionaries if it cannot be read.
		contains := dictContains(reader, an)
		vocab, err := s.vocab[an].get(reader)
		if err != nil {
			vocab = nil // no fuzzy matching nor completion: exact words only
		} else {
			contains = vocab.in
		}
		allowFuzzy := rk.on(FeatureFuzzy) && vocab != nil && (len(analyzers) == 1 || i < fuzzyLanguages) && len(p.matched[an]) <= maxFuzzyWords
		// The unfinished word, analysed, when the vocabulary lacks it.
		partial := ""
		if unfinished != "" && vocab != nil {
			if lt := ix.terms(an, unfinished); len(lt) == 1 && !vocab.has(lt[0]) {
				partial = lt[0]
			}
		}
		var words []qword
		// A word said twice weighs twice, as in BM25 over the whole text:
		// a draft repeats what it is about.
		qtf := map[string]float64{}
		for _, t := range analysed[an] {
			qtf[t]++
		}
		done := map[string]bool{}
		for _, t := range analysed[an] {
			if !p.matched[an][t] || done[t] {
				continue
			}
			done[t] = true
			if contains(t) != 0 {
				words = append(words, qword{forms: []string{t}, weight: qtf[t], fields: allFields})
				p.addCover(an, []string{t}, vocab, s.docs[an])
				continue
			}
			if t == partial {
				if forms := ix.completions(s, reader, an, unfinished, contains); len(forms) > 0 {
					words = append(words, qword{forms: forms, weight: 1, fields: allFields})
					p.addCover(an, forms, vocab, s.docs[an])
					continue
				}
			}
			if allowFuzzy {
				if forms := vocab.neighbourTerms(t); len(forms) > 0 {
					fuzzed[t] = true
					// A typo's neighbours count below the words typed right,
					// and in titles and bodies only.
					words = append(words, qword{forms: forms, weight: 0.5, fields: fieldBit(fieldTitle) | fieldBit(fieldBody)})
					p.addCover(an, forms, vocab, s.docs[an])
				}
			} else if vocab != nil && maxFuzzy(runeLen(t)) > 0 {
				fuzzed[t] = true
			}
		}
		clauses = append(clauses, ix.fieldClauses(an, words, contains)...)
		if rk.on(FeaturePhrases) && !q.Draft && len(words) >= 2 && len(words) <= maxPhraseWords {
			clauses = append(clauses, ix.pairClauses(reader, an, q.Text, p.matched[an])...)
		}
		if rk.on(FeatureSynonyms) {
			for _, g := range s.synonyms[an] {
				if qs := ix.expandSynonyms(g, p.matched[an], an); len(qs) > 0 {
					clauses = append(clauses, qs...)
					p.coverSynonyms(an, g, p.matched[an], vocab, s.docs[an])
				}
			}
		}
	}
	// "Did you mean" needs one language to correct against; across all
	// languages a word unknown in one is often a word of another.
	var unknown []string
	if len(analyzers) == 1 {
		for t := range fuzzed {
			unknown = append(unknown, t)
		}
	}
	// Three letters at least for a prefix: shorter ones expand to thousands
	// of title words on a large knowledge base and say little.
	prefix := ""
	if w := lastWord(q.Text); q.Prefix && utf8.RuneCountInString(w) >= 3 {
		prefix = w
	}
	for _, an := range analyzers {
		if prefix != "" {
			pq := bleve.NewPrefixQuery(prefix)
			pq.SetField(field(an, fieldTitleWords))
			pq.SetBoost(2)
			clauses = append(clauses, pq)
		}
	}
	if len(clauses) == 0 {
		return nil, unknown
	}
	p.q = bleve.NewDisjunctionQuery(clauses...)
	return p, unknown
}

// boost is a field's weight.
func (ix *Index) boost(f string) float64 { return boostOf(f) }

// qword is one word of a query: the terms that stand for it (its analysed
// form, or the known words near a typo, or the completions of a word being
// typed), its weight, and the fields (bit i for fieldBoosts[i]) it is
// looked for in.
type qword struct {
	forms  []string
	weight float64
	fields uint
}

var allFields = uint(1)<<len(fieldBoosts) - 1

func fieldBit(name string) uint {
	for i, fb := range fieldBoosts {
		if fb.name == name {
			return 1 << i
		}
	}
	return 0
}

// fieldClauses is BM25 per field over the query's words, as plain BM25
// over several fields is: one disjunction of the words per field. Only the
// words a field has get a query there; Bleve scales a disjunction by its
// matched/total clauses, so each field's weight is scaled by present/all
// words, which gives the score of querying every word in every field
// without the cost. A word with several forms (a typo's near words, an
// unfinished word's completions) is an inner disjunction, which Bleve
// scales the same way: one form found counts 1/forms of the word, as in
// Bleve's own fuzzy queries.
func (ix *Index) fieldClauses(an string, words []qword, contains func(string) uint) []query.Query {
	if len(words) == 0 {
		return nil
	}
	var out []query.Query
	for i, fb := range fieldBoosts {
		// Bleve ignores the boost of a disjunction: weights go on the
		// term queries, set once the field's number of words is known.
		var per []query.Query
		var leaves []*query.TermQuery
		var weights []float64
		for _, w := range words {
			if w.fields&(1<<i) == 0 {
				continue
			}
			var forms []query.Query
			for _, f := range w.forms {
				if contains(f)&(1<<i) != 0 {
					tq := bleve.NewTermQuery(f)
					tq.SetField(field(an, fb.name))
					forms = append(forms, tq)
					leaves = append(leaves, tq)
					weights = append(weights, w.weight)
				}
			}
			switch len(forms) {
			case 0:
			case 1:
				per = append(per, forms[0])
			default:
				per = append(per, bleve.NewDisjunctionQuery(forms...))
			}
		}
		if len(per) == 0 {
			continue
		}
		scale := ix.boost(fb.name) * float64(len(per)) / float64(len(words))
		for j, tq := range leaves {
			tq.SetBoost(weights[j] * scale)
		}
		out = append(out, bleve.NewDisjunctionQuery(per...))
	}
	return out
}

// maxPhraseWords is the longest query, in words that count, scored as a
// phrase too: a few words typed into a search box are often one
// expression ("mot de passe", "single sign-on"); a longer question or a
// draft is not, and its pairs only add noise.
const maxPhraseWords = 2

// pairClauses looks the query's pairs of consecutive words up among the
// articles' (see pairs.go), at the weight of the sequential dependence
// model's ordered windows (0.1 against the words' 0.85), scaled by
// present/all pairs as fieldClauses scales words.
func (ix *Index) pairClauses(reader index.IndexReader, an, text string, words map[string]bool) []query.Query {
	var all []string
	for _, p := range ix.terms(pairsAnalyzer(an), text) {
		// A pair with a greeting or sign-off in it says nothing more.
		if a, b, _ := strings.Cut(p, " "); words[a] && words[b] {
			all = append(all, p)
		}
	}
	if len(all) == 0 {
		return nil
	}
	contains := fieldContains(reader, field(an, fieldPairs))
	seen := map[string]bool{}
	var present []*query.TermQuery
	for _, p := range all {
		if seen[p] || contains(p) == 0 {
			continue
		}
		seen[p] = true
		tq := bleve.NewTermQuery(p)
		tq.SetField(field(an, fieldPairs))
		present = append(present, tq)
	}
	if len(present) == 0 {
		return nil
	}
	qs := make([]query.Query, len(present))
	for i, tq := range present {
		tq.SetBoost(0.1 / 0.85 * float64(len(present)) / float64(len(all)))
		qs[i] = tq
	}
	return []query.Query{bleve.NewDisjunctionQuery(qs...)}
}

// maxNeighbours bounds the known words an unknown one may stand for, and
// maxCompletions the words an unfinished one may become.
const (
	maxNeighbours  = 8
	maxCompletions = 8
)

// neighbourTerms returns the known words near a typo t.
func (d *termDict) neighbourTerms(t string) []string {
	near := d.neighbours(t, maxFuzzy(runeLen(t)), maxNeighbours)
	forms := make([]string, len(near))
	for i, n := range near {
		forms[i] = n.term
	}
	return forms
}

// completions stands for a word being typed: the most common words of the
// articles that start with it, as the analyzer stems them.
func (ix *Index) completions(s *state, reader index.IndexReader, an, typed string, contains func(string) uint) []string {
	if runeLen(typed) < 2 {
		return nil
	}
	spell, err := s.spell[an].get(reader)
	if err != nil {
		return nil
	}
	var stems []string
	seen := map[string]bool{}
	for _, c := range spell.completions(typed, maxCompletions) {
		for _, t := range ix.terms(an, c) {
			if !seen[t] && contains(t) != 0 {
				seen[t] = true
				stems = append(stems, t)
			}
		}
	}
	return stems
}

// unfinishedWord returns the last word of a draft, lowercased, when nothing
// ends it (no space or punctuation after it) and it is not the only word:
// the customer may still be typing it.
func unfinishedWord(text string) string {
	last, _ := utf8.DecodeLastRuneInString(text)
	if last == utf8.RuneError || !(unicode.IsLetter(last) || unicode.IsDigit(last)) {
		return ""
	}
	i := strings.LastIndexFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if i < 0 || strings.TrimSpace(text[:i]) == "" {
		return ""
	}
	return strings.ToLower(text[i+1:])
}

func setOf(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, x := range list {
		m[x] = true
	}
	return m
}

// expandSynonyms adds the other variants of a group whose variant the query
// contains, a little below the words actually typed.
func (ix *Index) expandSynonyms(g synonymGroup, present map[string]bool, an string) []query.Query {
	hit := -1
	for i, v := range g {
		all := true
		for _, t := range v {
			all = all && present[t]
		}
		if all {
			hit = i
			break
		}
	}
	if hit < 0 {
		return nil
	}
	var out []query.Query
	for i, v := range g {
		if i == hit {
			continue
		}
		var per []query.Query
		for _, fb := range fieldBoosts {
			var parts []query.Query
			for _, t := range v {
				tq := bleve.NewTermQuery(t)
				tq.SetField(field(an, fb.name))
				parts = append(parts, tq)
			}
			// Bleve ignores the boost of a conjunction: it goes on the terms.
			for _, tq := range parts {
				tq.(*query.TermQuery).SetBoost(0.7 * ix.boost(fb.name))
			}
			var fq query.Query = parts[0]
			if len(parts) > 1 {
				fq = bleve.NewConjunctionQuery(parts...)
			}
			per = append(per, fq)
		}
		out = append(out, bleve.NewDisjunctionQuery(per...))
	}
	return out
}

// filterTerm matches a keyword exactly; its tiny boost keeps it from
// changing the ranking.
func filterTerm(v, field string) query.Query {
	tq := bleve.NewTermQuery(v)
	tq.SetField(field)
	tq.SetBoost(1e-6)
	return tq
}

func boostOf(field string) float64 {
	for _, fb := range fieldBoosts {
		if fb.name == field {
			return fb.boost
		}
	}
	return 1
}

// terms analyses text with the named analyzer.
func (ix *Index) terms(an, text string) []string {
	toks := ix.tokens(an, text)
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		out = append(out, string(t.Term))
	}
	return out
}

func (ix *Index) tokens(an, text string) analysis.TokenStream {
	a := ix.mapping.AnalyzerNamed(an)
	if a == nil {
		return nil
	}
	return a.Analyze([]byte(text))
}

// dictContains reports in which of the searched fields (bit i for
// fieldBoosts[i]) a term occurs, in any article of the analyzer's languages.
func dictContains(reader index.IndexReader, an string) func(string) uint {
	fields := make([]string, len(fieldBoosts))
	for i, fb := range fieldBoosts {
		fields[i] = field(an, fb.name)
	}
	return fieldContains(reader, fields...)
}

// fieldContains reports in which of the fields (bit i for fields[i]) a term
// occurs.
func fieldContains(reader index.IndexReader, fields ...string) func(string) uint {
	all := uint(1)<<len(fields) - 1
	rc, ok := reader.(index.IndexReaderContains)
	if !ok {
		return func(string) uint { return all }
	}
	dicts := make([]index.FieldDictContains, len(fields))
	for i, f := range fields {
		d, err := rc.FieldDictContains(f)
		if err != nil {
			return func(string) uint { return all }
		}
		dicts[i] = d
	}
	return func(t string) uint {
		var in uint
		for i, d := range dicts {
			if ok, err := d.Contains([]byte(t)); err == nil && ok {
				in |= 1 << i
			}
		}
		return in
	}
}

func lastWord(s string) string {
	if s == "" || strings.HasSuffix(s, " ") {
		return ""
	}
	f := strings.Fields(strings.ToLower(s))
	if len(f) == 0 {
		return ""
	}
	return strings.Trim(f[len(f)-1], `.,;:!?"'()[]{}`)
}

func facetValues(f *bsearch.FacetResult) []Facet {
	var out []Facet
	if f.Terms == nil {
		return nil
	}
	for _, t := range f.Terms.Terms() {
		out = append(out, Facet{Name: t.Term, Count: t.Count})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}
