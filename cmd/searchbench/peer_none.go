//go:build !sqlite_fts5

package main

import "github.com/orbitask/portal/kb"

// addPeer leaves the FTS5 peer out: go-sqlite3 has FTS5 only with the
// sqlite_fts5 build tag.
func addPeer(*kb.KB, string, bool, []*path) (func(), string, error) {
	return func() {}, "SQLite FTS5 peer left out: build with -tags sqlite_fts5 to measure it in the same run", nil
}
