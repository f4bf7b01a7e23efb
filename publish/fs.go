package publish

import (
	"io/fs"
	"sync/atomic"
)

// commitFS is a commit's files, read first from a push's quarantined
// objects and, once git has accepted them, from the repository: the
// knowledge base checked in the hook is published as it is, without being
// read again, and keeps reading its images after the quarantine is gone.
type commitFS struct {
	cur atomic.Pointer[fs.FS]
}

func newCommitFS(f fs.FS) *commitFS {
	c := &commitFS{}
	c.set(f)
	return c
}

func (c *commitFS) set(f fs.FS) { c.cur.Store(&f) }
func (c *commitFS) fs() fs.FS   { return *c.cur.Load() }

func (c *commitFS) Open(name string) (fs.File, error) { return c.fs().Open(name) }

func (c *commitFS) ReadFile(name string) ([]byte, error) { return fs.ReadFile(c.fs(), name) }

func (c *commitFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(c.fs(), name) }

func (c *commitFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(c.fs(), name) }
