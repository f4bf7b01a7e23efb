package kb

import (
	"bufio"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
)

// snapshotVersion changes whenever parsing, text extraction or the snapshot
// format changes, so a snapshot written by an older portal is not trusted
// (and, being part of the fingerprint, the index is rebuilt too). HTML is
// rendered on first view and never saved, so a change to the HTML alone
// (such as the task-list checkboxes' names) needs no new version.
const snapshotVersion = 5

// snapshot is a parsed knowledge base, saved so that a restart with
// unchanged content skips YAML and Markdown parsing (at 38k articles, most of
// the start-up time). It keeps every source, so that Update works on a
// knowledge base loaded from it as on one loaded from the files.
type snapshot struct {
	Fingerprint string
	Docs        map[string]*doc
}

func readSnapshot(path, fingerprint string) (map[string]*doc, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	var snap snapshot
	if err := gob.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&snap); err != nil || snap.Fingerprint != fingerprint {
		return nil, false
	}
	if snap.Docs == nil {
		snap.Docs = map[string]*doc{}
	}
	return snap.Docs, true
}

// WriteSnapshot saves k for LoadCached. It replaces the file atomically, so
// a crash mid-write leaves the old snapshot (which no longer matches, and is
// ignored) or none.
func (k *KB) WriteSnapshot(path string) error {
	snap := snapshot{Fingerprint: k.Fingerprint, Docs: k.st.docs}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("kb: snapshot: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kb-snapshot-*")
	if err != nil {
		return fmt.Errorf("kb: snapshot: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := gob.NewEncoder(w).Encode(&snap); err != nil {
		tmp.Close()
		return fmt.Errorf("kb: snapshot: %w", err)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("kb: snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("kb: snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("kb: snapshot: %w", err)
	}
	return nil
}
