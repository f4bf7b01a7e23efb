package search

import (
	"cmp"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	index "github.com/blevesearch/bleve_index_api"
)

// A termDict is the vocabulary of some fields of one analyzer's articles,
// read once from an index generation, which never changes, and kept with
// it. It answers what a query needs of the vocabulary in microseconds:
// whether a word is known, how many articles have it, its near neighbours
// (typos) and its completions (a word being typed).
//
// Bleve's fuzzy queries build a Levenshtein automaton per word and walk the
// term dictionary with it, per field: on 7,400 articles that was two thirds
// of an uncached search. Here the neighbours come from a symmetric-delete
// index (Garbe's SymSpell): every word of the vocabulary is stored under
// each spelling with one (or, for words of eight letters or more, two)
// letters deleted, by hash; a typed word's own deletions are looked up, and
// each candidate is checked with the true edit distance (transpositions
// count as one edit, as typos do).
type termDict struct {
	terms  []string // sorted
	freq   []uint32 // articles having terms[i] in any of the fields
	fields []uint8  // bit i: terms[i] is in the dictionary's fields[i]
	pos    map[string]int32

	delOnce sync.Once
	dels    []deletion // sorted by hash; built on the first fuzzy look-up
	// bucket[b] is the index in dels of the first hash whose top
	// bucketBits bits are b or more: a look-up searches one bucket of a few
	// entries rather than the whole slice.
	bucket []int32
}

const bucketBits = 16

// deletion is one spelling of terms[term] with letters deleted (or none),
// by the hash of its runes: 12 bytes, not a string per spelling.
type deletion struct {
	hash uint64
	term int32
}

// fuzzyMinRunes is the shortest word matched fuzzily: shorter words have too
// many neighbours to guess which was meant. Words of fuzzy2MinRunes runes or
// more may have two edits.
const (
	fuzzyMinRunes  = 4
	fuzzy2MinRunes = 8
)

// maxFuzzy returns how many edits a word of n runes may have.
func maxFuzzy(n int) int {
	switch {
	case n >= fuzzy2MinRunes:
		return 2
	case n >= fuzzyMinRunes:
		return 1
	}
	return 0
}

// buildTermDict reads the vocabulary of fields.
func buildTermDict(reader index.IndexReader, fields []string) (*termDict, error) {
	freq := map[string]uint32{}
	in := map[string]uint8{}
	for fi, f := range fields {
		fd, err := reader.FieldDict(f)
		if err != nil {
			return nil, err
		}
		for {
			e, err := fd.Next()
			if err != nil {
				fd.Close()
				return nil, err
			}
			if e == nil {
				break
			}
			// An article counted in two fields is one article; the larger
			// field count is the best cheap estimate of the union.
			if c := uint32(e.Count); c > freq[e.Term] {
				freq[e.Term] = c
			}
			in[e.Term] |= 1 << fi
		}
		fd.Close()
	}
	d := &termDict{terms: make([]string, 0, len(freq)), pos: make(map[string]int32, len(freq))}
	for t := range freq {
		d.terms = append(d.terms, t)
	}
	sort.Strings(d.terms)
	d.freq = make([]uint32, len(d.terms))
	d.fields = make([]uint8, len(d.terms))
	for i, t := range d.terms {
		d.freq[i] = freq[t]
		d.fields[i] = in[t]
		d.pos[t] = int32(i)
	}
	return d, nil
}

// deletions builds the neighbour index: each term under its own spelling
// and each spelling with up to maxFuzzy(length) letters deleted.
func (d *termDict) deletions() []deletion {
	d.delOnce.Do(func() {
		var out []deletion
		var r []rune
		for i, t := range d.terms {
			r = append(r[:0], []rune(t)...)
			forDeletions(r, maxFuzzy(len(r)), func(h uint64) { out = append(out, deletion{h, int32(i)}) })
		}
		slices.SortFunc(out, func(a, b deletion) int { return cmp.Compare(a.hash, b.hash) })
		d.dels = out
		d.bucket = make([]int32, 1<<bucketBits+1)
		b := 0
		for i, e := range out {
			for top := int(e.hash >> (64 - bucketBits)); b <= top; b++ {
				d.bucket[b] = int32(i)
			}
		}
		for ; b <= 1<<bucketBits; b++ {
			d.bucket[b] = int32(len(out))
		}
	})
	return d.dels
}

// forDeletions calls f with the hash of r and of each spelling of r with
// 1..n runes deleted (the same spelling may come more than once).
//
// The hash is polynomial, Σ r[k]·B^k mod 2⁶⁴ over the spelling's runes,
// so that deleting runes is arithmetic on prefix sums (B is odd, so it has
// an inverse mod 2⁶⁴) rather than a pass over the word per spelling.
func forDeletions(r []rune, n int, f func(uint64)) {
	var buf [32]uint64
	p := buf[:0]
	if len(r)+1 > len(buf) {
		p = make([]uint64, 0, len(r)+1)
	}
	p = append(p, 0)
	pow := uint64(1)
	for _, c := range r {
		p = append(p, p[len(p)-1]+uint64(c)*pow)
		pow *= hashBase
	}
	L := len(r)
	f(mix(p[L]))
	if n < 1 || L < 2 {
		return
	}
	for i := 0; i < L; i++ {
		tail := (p[L] - p[i+1]) * hashBaseInv
		f(mix(p[i] + tail))
		if n < 2 || L < 3 {
			continue
		}
		for j := i + 1; j < L; j++ {
			f(mix(p[i] + (p[j]-p[i+1])*hashBaseInv + (p[L]-p[j+1])*hashBaseInv2))
		}
	}
}

const (
	hashBase     = 0x9E3779B97F4A7C15 // odd
	hashBaseInv  = 0xF1DE83E19937733D // hashBase⁻¹ mod 2⁶⁴
	hashBaseInv2 = 0x26E852FBA215DC89 // hashBaseInv² mod 2⁶⁴
)

// mix spreads a polynomial hash's bits (splitmix64's finaliser), so that
// spellings that differ little do not get neighbouring hashes.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 27
	h *= 0x94D049BB133111EB
	return h ^ h>>31
}

// has reports whether t is in the vocabulary.
func (d *termDict) has(t string) bool {
	_, ok := d.pos[t]
	return ok
}

// in reports in which of the dictionary's fields (bit i for fields[i]) t
// occurs.
func (d *termDict) in(t string) uint {
	if i, ok := d.pos[t]; ok {
		return uint(d.fields[i])
	}
	return 0
}

// df returns how many articles have t (0 when unknown).
func (d *termDict) df(t string) uint32 {
	if i, ok := d.pos[t]; ok {
		return d.freq[i]
	}
	return 0
}

// neighbour is a known word near a typed one.
type neighbour struct {
	term string
	dist int
	freq uint32
}

// neighbours returns up to limit known words within maxDist edits of t,
// the closest first, then the most common.
func (d *termDict) neighbours(t string, maxDist, limit int) []neighbour {
	if maxDist == 0 {
		return nil
	}
	dels := d.deletions()
	r := []rune(t)
	cand := map[int32]bool{}
	forDeletions(r, maxDist, func(h uint64) {
		top := h >> (64 - bucketBits)
		lo, hi := d.bucket[top], d.bucket[top+1]
		j, _ := slices.BinarySearchFunc(dels[lo:hi], h, func(e deletion, h uint64) int { return cmp.Compare(e.hash, h) })
		for i := int(lo) + j; i < len(dels) && dels[i].hash == h; i++ {
			cand[dels[i].term] = true
		}
	})
	var out []neighbour
	for i := range cand {
		term := d.terms[i]
		if term == t {
			continue
		}
		// The hashes find candidates; the distance decides (and rules out
		// the rare collision).
		if dist := osaDistance(r, []rune(term), maxDist); dist <= maxDist {
			out = append(out, neighbour{term, dist, d.freq[i]})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].dist != out[j].dist {
			return out[i].dist < out[j].dist
		}
		if out[i].freq != out[j].freq {
			return out[i].freq > out[j].freq
		}
		return out[i].term < out[j].term
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// completions returns up to limit known words that start with p, the most
// common first.
func (d *termDict) completions(p string, limit int) []string {
	lo := sort.SearchStrings(d.terms, p)
	hi := lo
	for hi < len(d.terms) && strings.HasPrefix(d.terms[hi], p) {
		hi++
	}
	idx := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		idx = append(idx, i)
	}
	sort.SliceStable(idx, func(a, b int) bool { return d.freq[idx[a]] > d.freq[idx[b]] })
	if len(idx) > limit {
		idx = idx[:limit]
	}
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = d.terms[j]
	}
	return out
}

// osaDistance is the optimal string alignment distance of a and b (edits:
// insert, delete, substitute, swap two neighbours), or max+1 once it is
// certain to exceed max.
func osaDistance(a, b []rune, max int) int {
	if d := len(a) - len(b); d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// lazyDict builds a termDict on first use; a generation that is never
// searched in a language never pays for it.
type lazyDict struct {
	once   sync.Once
	fields []string
	d      *termDict
	err    error
}

func (l *lazyDict) get(reader index.IndexReader) (*termDict, error) {
	if l == nil { // a language without articles
		return nil, errDictUnavailable
	}
	l.once.Do(func() { l.d, l.err = buildTermDict(reader, l.fields) })
	if l.d == nil && l.err == nil { // the build panicked (damaged data)
		return nil, errDictUnavailable
	}
	return l.d, l.err
}

var errDictUnavailable = errors.New("search: term dictionary unavailable")

// runeLen is utf8.RuneCountInString, named for what it means here.
func runeLen(s string) int { return utf8.RuneCountInString(s) }
