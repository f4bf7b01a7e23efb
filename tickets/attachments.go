package tickets

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

// Attachment is a file a customer attaches to a new ticket.
type Attachment struct {
	Name        string
	ContentType string // as the client claims it; ignored, see attachmentType
	Data        []byte
}

// AttachmentInfo describes a stored attachment; the file itself is
// DataDir/attachments/<SHA256>.
type AttachmentInfo struct {
	Name, ContentType, SHA256 string
	Size                      int64
	MessageID                 int64 // the message it came with (a filing's: the first)
}

// Attachment limits.
const (
	MaxAttachments    = 5
	MaxAttachmentSize = 10 << 20 // bytes
	maxAttachmentName = 200      // characters
)

// attachmentType decides the type of an attachment from its content and its
// name together; the type the client sent is not consulted, because the
// client controls it. The extension names what the file claims to be, and
// http.DetectContentType must agree: a ".png" must start like a PNG, a
// ".txt" must sniff as plain UTF-8 text (an HTML page renamed to .txt does
// not), a ".json" must also parse. A name without an extension is accepted
// when its content sniffs as one of the allowed binary types or as text.
// It returns "" when the file is not allowed.
func attachmentType(name string, data []byte) string {
	sniffed := http.DetectContentType(data)
	isText := sniffed == "text/plain; charset=utf-8" && utf8.Valid(data)
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".txt", ".text":
		if isText {
			return "text/plain"
		}
	case ".log":
		if isText {
			return "text/x-log"
		}
	case ".json":
		if isText && json.Valid(data) {
			return "application/json"
		}
	case ".zip":
		if sniffed == "application/zip" {
			return "application/zip"
		}
	case ".gz", ".tgz":
		if sniffed == "application/x-gzip" {
			return "application/gzip"
		}
	case ".png":
		if sniffed == "image/png" {
			return "image/png"
		}
	case ".jpg", ".jpeg":
		if sniffed == "image/jpeg" {
			return "image/jpeg"
		}
	case ".gif":
		if sniffed == "image/gif" {
			return "image/gif"
		}
	case ".pdf":
		if sniffed == "application/pdf" {
			return "application/pdf"
		}
	case "":
		switch sniffed {
		case "application/zip", "image/png", "image/jpeg", "image/gif", "application/pdf":
			return sniffed
		case "application/x-gzip":
			return "application/gzip"
		}
		if isText {
			return "text/plain"
		}
	}
	return ""
}

// sanitizeName keeps the base name of a client's file name: no directories
// (either slash), no control or format characters, trimmed, at most
// maxAttachmentName characters with the extension kept.
func sanitizeName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.ReplaceAll(name, "\\", "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	name = strings.TrimLeft(name, ".") // no hidden files, no ".."
	if name == "" {
		return "attachment"
	}
	if r := []rune(name); len(r) > maxAttachmentName {
		ext := []rune(filepath.Ext(name))
		if len(ext) > 16 {
			ext = nil
		}
		name = string(r[:maxAttachmentName-len(ext)]) + string(ext)
	}
	return name
}

// pendingAttachment is a checked attachment, not yet written.
type pendingAttachment struct {
	AttachmentInfo
	data []byte
}

// checkAttachments validates the attachments of a new ticket and returns
// them typed, named and hashed, or the problem of the "attachments" field
// (a Problem without a code when there is none): too many files, or a
// fields.Files problem naming each file at fault. The same content under
// the same name twice is kept once.
func checkAttachments(atts []Attachment) ([]pendingAttachment, fields.Problem) {
	if len(atts) > MaxAttachments {
		return nil, fields.New(fields.TooManyFiles, "max", MaxAttachments)
	}
	var out []pendingAttachment
	var problems []fields.FileProblem
	for _, a := range atts {
		name := sanitizeName(a.Name)
		switch {
		case len(a.Data) == 0:
			problems = append(problems, fields.NewFile(name, fields.FileEmpty))
		case len(a.Data) > MaxAttachmentSize:
			problems = append(problems, tooLarge(name))
		default:
			typ := attachmentType(name, a.Data)
			if typ == "" {
				problems = append(problems, fields.NewFile(name, fields.FileType))
				continue
			}
			sum := sha256.Sum256(a.Data)
			info := AttachmentInfo{Name: name, ContentType: typ, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(a.Data))}
			dup := false
			for _, prev := range out {
				dup = dup || (prev.SHA256 == info.SHA256 && prev.Name == info.Name)
			}
			if !dup {
				out = append(out, pendingAttachment{info, a.Data})
			}
		}
	}
	if len(problems) > 0 {
		return nil, fields.ForFiles(problems...)
	}
	return out, fields.Problem{}
}

func tooLarge(name string) fields.FileProblem {
	return fields.NewFile(name, fields.FileTooLarge, "max_mb", MaxAttachmentSize>>20)
}

// AttachmentTooLarge is the *ValidationError for a file larger than
// MaxAttachmentSize, as File would report it, for a caller that refuses the
// file before reading it (the web layer, from the size an upload declares).
func AttachmentTooLarge(name string) *ValidationError {
	return &ValidationError{Fields: map[string]fields.Problem{"attachments": fields.ForFiles(tooLarge(sanitizeName(name)))}}
}

// storeAttachment writes an attachment's file (see writeAttachment) and
// records in s.files whether writing files fails for want of storage.
func (s *Store) storeAttachment(sum string, data []byte) error {
	wrote, err := writeAttachment(s.attDir, sum, data)
	if err == nil && !wrote {
		return nil // the file was there: nothing written, nothing learnt
	}
	return s.files.Observe(err)
}

// AttachmentsProblem says whether attachments' files fail to be written
// for want of storage (a full disk): the failures since the latest file
// written.
func (s *Store) AttachmentsProblem() (sqlitedb.Problem, bool) { return s.files.Problem() }

// writeAttachment stores data as dir/<sum>, unless a file with that content
// is already there (wrote is false then, and on failure). It writes a temporary file, syncs
// it and renames it into place, so a crash never leaves a half file under a
// content hash. A file whose ticket then fails to commit stays behind,
// harmless: it is named by its content and a later upload of the same
// content reuses it.
func writeAttachment(dir, sum string, data []byte) (wrote bool, err error) {
	path := filepath.Join(dir, sum)
	if info, err := os.Stat(path); err == nil && info.Size() == int64(len(data)) {
		return false, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	f, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	if err := os.Chmod(f.Name(), 0o600); err != nil { // customers' files: the owner only
		return false, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return false, err
	}
	d, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer d.Close()
	return true, d.Sync()
}

// OpenAttachment opens the stored file of a ticket's attachment, found by
// its content hash among the ticket's attachments (ErrNotFound otherwise),
// for trusted callers (the agent console).
func (s *Store) OpenAttachment(t Ticket, sha string) (AttachmentInfo, *os.File, error) {
	for _, a := range t.Attachments {
		if a.SHA256 == sha {
			f, err := os.Open(filepath.Join(s.attDir, a.SHA256))
			if err != nil {
				return AttachmentInfo{}, nil, fmt.Errorf("tickets: attachment of #%d: %w", t.Number, err)
			}
			return a, f, nil
		}
	}
	return AttachmentInfo{}, nil, fmt.Errorf("tickets: attachment of #%d: %w", t.Number, ErrNotFound)
}
