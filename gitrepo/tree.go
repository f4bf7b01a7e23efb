package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Git's file modes in trees.
const (
	ModeFile       = 0o100644
	ModeExecutable = 0o100755
	ModeSymlink    = 0o120000
	ModeSubmodule  = 0o160000
)

// TreeEntry is one file of a commit's tree.
type TreeEntry struct {
	Path string // slash-separated, from the tree's root
	Mode uint32 // git's mode: ModeFile, ModeExecutable, ModeSymlink, ModeSubmodule
	Size int64  // bytes of the blob (0 for a submodule)
	Blob string // object id (a commit id for a submodule)
}

// Tree is the list of files of one commit, readable as an fs.FS.
type Tree struct {
	Commit  string
	Entries []TreeEntry // sorted by Path

	repo  *Repo
	files map[string]int           // path → index in Entries
	dirs  map[string][]fs.DirEntry // directory ("." for the root) → its entries, sorted

	mu      sync.Mutex
	preload map[string][]byte // blob → content, from Preload
}

// Preload reads the content of every file of at most maxSize bytes (and
// every symlink) in one pipelined pass and keeps it in memory, so that
// reading the whole tree through FS afterwards costs no round trips.
func (t *Tree) Preload(maxSize int64) error {
	var oids []string
	seen := map[string]bool{}
	for _, e := range t.Entries {
		if e.Mode != ModeSubmodule && e.Size <= maxSize && !seen[e.Blob] {
			seen[e.Blob] = true
			oids = append(oids, e.Blob)
		}
	}
	cache := make(map[string][]byte, len(oids))
	if err := t.repo.cat.readMany(oids, func(i int, data []byte) { cache[oids[i]] = data }); err != nil {
		return fmt.Errorf("gitrepo: preload %s: %w", t.Commit, err)
	}
	t.mu.Lock()
	t.preload = cache
	t.mu.Unlock()
	return nil
}

// Tree lists the files of commit (every blob, symlink and submodule, with
// sizes). Their contents are read on demand through FS.
func (r *Repo) Tree(ctx context.Context, commit string) (*Tree, error) {
	if !objectID.MatchString(commit) {
		return nil, fmt.Errorf("gitrepo: tree: %q is not an object id", commit)
	}
	out, err := r.git(ctx, nil, "ls-tree", "-r", "-l", "-z", "--full-tree", commit)
	if err != nil {
		return nil, fmt.Errorf("gitrepo: tree %s: %w", commit, err)
	}
	t := &Tree{Commit: commit, repo: r, files: map[string]int{}, dirs: map[string][]fs.DirEntry{".": nil}}
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		// "<mode> SP <type> SP <object> SP+ <size> TAB <path>"
		meta, p, ok := strings.Cut(string(rec), "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 4 {
			return nil, fmt.Errorf("gitrepo: tree %s: unexpected line %q", commit, rec)
		}
		mode, err := strconv.ParseUint(f[0], 8, 32)
		if err != nil {
			return nil, fmt.Errorf("gitrepo: tree %s: mode %q: %w", commit, f[0], err)
		}
		size, _ := strconv.ParseInt(f[3], 10, 64) // "-" for a submodule
		if !fs.ValidPath(p) || p == "." {
			continue // fsck refuses such trees; never expose them
		}
		t.Entries = append(t.Entries, TreeEntry{Path: p, Mode: uint32(mode), Size: size, Blob: f[2]})
	}
	sort.Slice(t.Entries, func(i, j int) bool { return t.Entries[i].Path < t.Entries[j].Path })
	seenDir := map[string]bool{".": true}
	for i, e := range t.Entries {
		t.files[e.Path] = i
		child := fs.DirEntry(fs.FileInfoToDirEntry(t.entryInfo(&t.Entries[i])))
		for p := e.Path; ; {
			parent := path.Dir(p)
			t.dirs[parent] = append(t.dirs[parent], child)
			if seenDir[parent] {
				break
			}
			seenDir[parent] = true
			child = fs.FileInfoToDirEntry(dirInfo(path.Base(parent)))
			p = parent
		}
	}
	for d, list := range t.dirs {
		sort.Slice(list, func(i, j int) bool { return list[i].Name() < list[j].Name() })
		t.dirs[d] = list
	}
	return t, nil
}

// FS is the tree as a read-only file system (fs.ReadDirFS, fs.StatFS,
// fs.ReadFileFS). Symlinks have fs.ModeSymlink (their content is the
// target), submodules fs.ModeIrregular (no content), so a loader can
// refuse both; modification times are zero.
func (t *Tree) FS() fs.FS { return treeFS{t} }

func (t *Tree) entryInfo(e *TreeEntry) fileInfo {
	fi := fileInfo{name: path.Base(e.Path), size: e.Size, mode: 0o444, entry: e}
	switch e.Mode {
	case ModeSymlink:
		fi.mode = fs.ModeSymlink | 0o777
	case ModeSubmodule:
		fi.mode, fi.size = fs.ModeIrregular, 0
	case ModeExecutable:
		fi.mode = 0o555
	}
	return fi
}

func dirInfo(name string) fileInfo { return fileInfo{name: name, mode: fs.ModeDir | 0o555} }

type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	entry *TreeEntry // nil for a directory
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return fi.mode.IsDir() }

// Sys is the *TreeEntry of a file (nil for a directory).
func (fi fileInfo) Sys() any {
	if fi.entry == nil {
		return nil
	}
	return fi.entry
}

type treeFS struct{ t *Tree }

func (f treeFS) Open(name string) (fs.File, error) {
	info, err := f.stat("open", name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return &dirFile{info: info, entries: f.t.dirs[name]}, nil
	}
	return &blobFile{info: info, t: f.t}, nil
}

func (f treeFS) Stat(name string) (fs.FileInfo, error) { return f.stat("stat", name) }

func (f treeFS) stat(op, name string) (fileInfo, error) {
	if !fs.ValidPath(name) {
		return fileInfo{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if i, ok := f.t.files[name]; ok {
		return f.t.entryInfo(&f.t.Entries[i]), nil
	}
	if _, ok := f.t.dirs[name]; ok {
		return dirInfo(path.Base(name)), nil
	}
	return fileInfo{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

func (f treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	info, err := f.stat("readdir", name)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return append([]fs.DirEntry(nil), f.t.dirs[name]...), nil
}

func (f treeFS) ReadFile(name string) ([]byte, error) {
	info, err := f.stat("read", name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	b, err := f.t.content(info.entry)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return b, nil
}

func (t *Tree) content(e *TreeEntry) ([]byte, error) {
	if e.Mode == ModeSubmodule {
		return []byte{}, nil
	}
	t.mu.Lock()
	data, ok := t.preload[e.Blob]
	t.mu.Unlock()
	if ok { // a copy: callers may modify what they read
		return append([]byte(nil), data...), nil
	}
	return t.repo.cat.read(e.Blob)
}

type blobFile struct {
	info fileInfo
	t    *Tree
	r    *bytes.Reader // read on the first Read
}

func (b *blobFile) Stat() (fs.FileInfo, error) { return b.info, nil }
func (b *blobFile) Close() error               { return nil }
func (b *blobFile) Read(p []byte) (int, error) {
	if b.r == nil {
		data, err := b.t.content(b.info.entry)
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: b.info.entry.Path, Err: err}
		}
		b.r = bytes.NewReader(data)
	}
	return b.r.Read(p)
}

type dirFile struct {
	info    fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return append([]fs.DirEntry(nil), rest...), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return append([]fs.DirEntry(nil), rest[:n]...), nil
}

// catFile is one long-lived `git cat-file --batch`: reading 10,000 blobs
// costs one process, not 10,000. A failed exchange kills it; the next read
// starts another.
type catFile struct {
	repo *Repo

	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func (c *catFile) read(oid string) ([]byte, error) {
	if !objectID.MatchString(oid) {
		return nil, fmt.Errorf("gitrepo: cat-file: %q is not an object id", oid)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		if err := c.start(); err != nil {
			return nil, err
		}
	}
	b, err := c.exchange(oid)
	if err != nil && !errors.Is(err, errMissing) {
		c.stopLocked()
	}
	return b, err
}

var errMissing = errors.New("object missing")

func (c *catFile) exchange(oid string) ([]byte, error) {
	if _, err := io.WriteString(c.in, oid+"\n"); err != nil {
		return nil, fmt.Errorf("gitrepo: cat-file: %w", err)
	}
	return c.receive(oid)
}

// receive reads cat-file's answer about oid.
func (c *catFile) receive(oid string) ([]byte, error) {
	header, err := c.out.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("gitrepo: cat-file: %w", err)
	}
	f := strings.Fields(header)
	if len(f) == 2 && f[1] == "missing" {
		return nil, fmt.Errorf("gitrepo: cat-file %s: %w", oid, errMissing)
	}
	if len(f) != 3 || f[0] != oid {
		return nil, fmt.Errorf("gitrepo: cat-file: unexpected header %q", header)
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || size < 0 {
		return nil, fmt.Errorf("gitrepo: cat-file: unexpected header %q", header)
	}
	// The content and its closing newline, read even for a non-blob so the
	// stream stays in step.
	data := make([]byte, size+1)
	if _, err := io.ReadFull(c.out, data); err != nil {
		return nil, fmt.Errorf("gitrepo: cat-file: %w", err)
	}
	if f[1] != "blob" {
		return nil, fmt.Errorf("gitrepo: cat-file %s: a %s, not a blob", oid, f[1])
	}
	return data[:size], nil
}

// readMany reads the blobs oids in one pipelined pass (requests written
// while answers are read): 10,000 blobs take tens of milliseconds instead
// of a round trip each. got is called in order; a missing blob is
// skipped.
func (c *catFile) readMany(oids []string, got func(i int, data []byte)) error {
	for _, oid := range oids {
		if !objectID.MatchString(oid) {
			return fmt.Errorf("gitrepo: cat-file: %q is not an object id", oid)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		if err := c.start(); err != nil {
			return err
		}
	}
	in := c.in
	written := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(in)
		for _, oid := range oids {
			if _, err := w.WriteString(oid + "\n"); err != nil {
				written <- err
				return
			}
		}
		written <- w.Flush()
	}()
	for i, oid := range oids {
		data, err := c.receive(oid)
		if errors.Is(err, errMissing) {
			continue
		}
		if err != nil {
			c.stopLocked() // also ends the writer: its pipe closes
			<-written
			return err
		}
		got(i, data)
	}
	if err := <-written; err != nil {
		c.stopLocked()
		return fmt.Errorf("gitrepo: cat-file: %w", err)
	}
	return nil
}

func (c *catFile) start() error {
	cmd := command(context.Background(), c.repo.baseEnv(), "cat-file", "--batch")
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("gitrepo: cat-file: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("gitrepo: cat-file: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("gitrepo: cat-file: %w", err)
	}
	c.cmd, c.in, c.out = cmd, in, bufio.NewReaderSize(out, 64<<10)
	return nil
}

func (c *catFile) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopLocked()
}

func (c *catFile) stopLocked() {
	if c.cmd == nil {
		return
	}
	c.in.Close() // cat-file ends at the end of its input
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
	c.cmd, c.in, c.out = nil, nil, nil
}
