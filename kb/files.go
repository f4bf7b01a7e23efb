package kb

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxFileSize is the largest file published when Options.MaxFileSize
// is 0.
const DefaultMaxFileSize = 5 << 20

// binarySniffLen is how much of a file is searched for a NUL byte to call it
// binary: git's own test.
const binarySniffLen = 8000

// attachmentTypes are the extensions of binary files an article may refer
// to, with the type they are served as. Text files of any extension are
// accepted (and served for download); a binary file of another type is
// refused, so that executables and office documents with macros are not
// published by accident.
var attachmentTypes = map[string]string{
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".svg": "image/svg+xml", ".avif": "image/avif", ".ico": "image/vnd.microsoft.icon",
	".pdf": "application/pdf",
	".txt": "text/plain; charset=utf-8", ".csv": "text/csv; charset=utf-8", ".log": "text/plain; charset=utf-8",
	".json": "application/json", ".yaml": "application/yaml", ".yml": "application/yaml", ".xml": "application/xml",
	".zip": "application/zip", ".gz": "application/gzip", ".tgz": "application/gzip",
	".mp4": "video/mp4", ".webm": "video/webm",
}

// AttachmentType returns the media type of an attachment extension (".png")
// that may be a binary file, and whether the extension is one.
func AttachmentType(ext string) (string, bool) {
	t, ok := attachmentTypes[strings.ToLower(ext)]
	return t, ok
}

func attachmentList() string {
	var exts []string
	for e := range attachmentTypes {
		exts = append(exts, strings.TrimPrefix(e, "."))
	}
	sort.Strings(exts)
	return strings.Join(exts, ", ")
}

// fileState is what the knowledge base knows of one entry of the tree: the
// line it adds to the fingerprint and the problems of the file policy.
type fileState struct {
	Sig      string    // content hash for Markdown, size and time otherwise
	MD       bool      // an article source, parsed into a doc
	Servable bool      // a regular file free of problems: articles may refer to it
	Problems []Problem // the file policy's
}

// walked is one entry found in the tree, before it is inspected.
type walked struct {
	path string
	d    fs.DirEntry
}

// walkTree lists the entries of fsys that the knowledge base covers: every
// file and symbolic link outside hidden and underscore directories, and
// directories whose names are refused.
func walkTree(fsys fs.FS) ([]walked, error) {
	var out []walked
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if nameProblem(name) != "" {
				out = append(out, walked{p, d})
				return fs.SkipDir
			}
			if skippedDir(name) {
				return fs.SkipDir
			}
			return nil
		}
		out = append(out, walked{p, d})
		return nil
	})
	return out, err
}

// skippedDir: hidden directories (.git) and underscore ones (Hugo's
// partials) are not content.
func skippedDir(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

func isArticleFile(p string) bool {
	name := path.Base(p)
	if p == name && repoFiles[strings.ToLower(name)] {
		return false
	}
	return strings.HasSuffix(strings.ToLower(name), ".md") && !strings.HasPrefix(name, "_")
}

// repoFiles, at the top of the tree, are about the repository, not for
// customers: a writers' repository usually has a README.
var repoFiles = map[string]bool{"readme.md": true, "contributing.md": true, "license.md": true, "changelog.md": true, "code_of_conduct.md": true}

// nameProblem says what is wrong with one path component, or "".
func nameProblem(name string) string {
	switch {
	case name == "..":
		return `a path component ".." is not allowed`
	case !utf8.ValidString(name):
		return "the name is not valid UTF-8"
	case strings.ContainsRune(name, '\\'):
		return "the name contains a backslash; use / between directories"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "the name contains a control character"
	}
	return ""
}

// displayPath makes a refused name printable on one line.
func displayPath(p string) string {
	if utf8.ValidString(p) && strings.IndexFunc(p, unicode.IsControl) < 0 {
		return p
	}
	q := strconv.QuoteToASCII(p)
	return q[1 : len(q)-1]
}

// inspect applies the file policy to one entry. For an article source it
// also returns the file's content, read once.
func inspect(fsys fs.FS, p string, d fs.DirEntry, maxSize int64) (*fileState, []byte) {
	problem := func(sig, msg string) *fileState {
		return &fileState{Sig: sig, Problems: []Problem{{displayPath(p), 1, msg}}}
	}
	if msg := nameProblem(d.Name()); msg != "" {
		return problem("bad name", msg), nil
	}
	if d.IsDir() {
		return nil, nil
	}
	mode := d.Type()
	switch {
	case mode&fs.ModeSymlink != 0:
		return problem("symlink", "symbolic links are not published; commit the file itself"), nil
	case mode&fs.ModeIrregular != 0:
		return problem("irregular", "a git submodule (or other special entry) is not published; commit the files themselves"), nil
	case !mode.IsRegular():
		return problem("special", "only regular files and directories are published"), nil
	}
	info, err := d.Info()
	if err != nil {
		return problem("unreadable", "cannot read file: "+err.Error()), nil
	}
	size := info.Size()
	meta := fmt.Sprintf("%d\x00%d", size, info.ModTime().UnixNano())
	if size > maxSize {
		return problem("large\x00"+meta, fmt.Sprintf("the file is %s, over the limit of %s", formatSize(size), formatSize(maxSize))), nil
	}
	ext := strings.ToLower(path.Ext(p))
	_, attachment := attachmentTypes[ext]
	binary := func() *fileState {
		kind := "files without an extension"
		if ext != "" {
			kind = strconv.Quote(path.Ext(p)) + " files"
		}
		return problem("binary\x00"+meta, fmt.Sprintf("binary file: %s are not published (binary attachments may be %s)", kind, attachmentList()))
	}
	if isArticleFile(p) {
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			return problem("unreadable", "cannot read file: "+err.Error()), nil
		}
		if bytes.IndexByte(raw[:min(len(raw), binarySniffLen)], 0) >= 0 {
			return binary(), nil
		}
		sum := sha256.Sum256(raw)
		return &fileState{Sig: hex.EncodeToString(sum[:]), MD: true, Servable: true}, raw
	}
	if !attachment {
		head, err := readHead(fsys, p)
		if err != nil {
			return problem("unreadable", "cannot read file: "+err.Error()), nil
		}
		if bytes.IndexByte(head, 0) >= 0 {
			return binary(), nil
		}
	}
	return &fileState{Sig: meta, Servable: true}, nil
}

func readHead(fsys fs.FS, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, binarySniffLen)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:n], nil
}

// formatSize writes a size for people: "6.2 MiB", "5 MiB", "812 bytes".
func formatSize(n int64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d bytes", n)
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " " + units[i]
}
