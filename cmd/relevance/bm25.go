package main

import (
	"fmt"
	"path/filepath"

	"github.com/blevesearch/bleve/v2"
	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/de"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/en"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/orbitask/portal/kb"
)

// plainBM25 is the baseline the portal must not fall below: Bleve as its
// documentation shows it, built here without the search package so that
// nothing of the portal's ranking leaks in. Title and body with the
// language's stock analyzer, BM25, the words of the query OR-ed.
type plainBM25 struct {
	idx bleve.Index
}

func newPlainBM25(dir, lang string, k *kb.KB) (*plainBM25, error) {
	im := bleve.NewIndexMapping()
	im.ScoringModel = index.BM25Scoring
	an := lang
	if im.AnalyzerNamed(an) == nil {
		an = "standard" // no stock analyzer for this language
	}
	im.DefaultAnalyzer = an
	doc := bleve.NewDocumentStaticMapping()
	for _, f := range []string{"title", "body"} {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = an
		doc.AddFieldMappingsAt(f, fm)
	}
	im.DefaultMapping = doc
	idx, err := bleve.New(filepath.Join(dir, "plain-bm25"), im)
	if err != nil {
		return nil, fmt.Errorf("plain bm25: %w", err)
	}
	b := idx.NewBatch()
	for _, a := range k.Articles {
		if err := b.Index(a.Slug, map[string]any{"title": a.Title, "body": a.Text}); err != nil {
			idx.Close()
			return nil, fmt.Errorf("plain bm25: %w", err)
		}
	}
	if err := idx.Batch(b); err != nil {
		idx.Close()
		return nil, fmt.Errorf("plain bm25: %w", err)
	}
	return &plainBM25{idx}, nil
}

func (p *plainBM25) search(text string) ([]string, error) {
	title := query.NewMatchQuery(text)
	title.SetField("title")
	title.SetOperator(query.MatchQueryOperatorOr)
	body := query.NewMatchQuery(text)
	body.SetField("body")
	body.SetOperator(query.MatchQueryOperatorOr)
	req := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(title, body), 10, 0, false)
	// Equal scores are common on short articles; ordering them by id keeps
	// the baseline's figures the same from run to run (the order documents
	// reach the index in is not fixed).
	req.SortBy([]string{"-_score", "_id"})
	res, err := p.idx.Search(req)
	if err != nil {
		return nil, fmt.Errorf("plain bm25: %w", err)
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids, nil
}

func (p *plainBM25) Close() error { return p.idx.Close() }
