//go:build sqlite_fts5

package main

import (
	"context"

	"github.com/orbitask/portal/internal/fts5peer"
	"github.com/orbitask/portal/kb"
)

// addPeer adds the FTS5 peer, on the same articles, to every path; with
// snippets it makes a snippet per hit, as the portal does.
func addPeer(k *kb.KB, lang string, snippets bool, paths []*path) (func(), string, error) {
	peer, err := fts5peer.Open(k.Articles)
	if err != nil {
		return nil, "", err
	}
	for _, p := range paths {
		limit := 10
		if p.name == "draft" {
			limit = draftLimit
		}
		name := "SQLite FTS5"
		if !snippets {
			name += " (no snippets)"
		}
		p.engines = append(p.engines, engine{name, func(ctx context.Context, text string) error {
			_, err := peer.Search(ctx, text, lang, limit, snippets)
			return err
		}})
	}
	return func() { peer.Close() }, "", nil
}
