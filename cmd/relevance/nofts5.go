//go:build !sqlite_fts5

package main

import "github.com/orbitask/portal/kb"

// Without the sqlite_fts5 tag go-sqlite3 has no FTS5: the tool (and its
// test, which runs in a plain `go test ./...`) measures without the peer,
// leaves its rows out and says so.
const fts5Note = "FTS5 peer: build with -tags sqlite_fts5"

func openFTS5(*kb.KB) (*peer, error) { return nil, nil }
