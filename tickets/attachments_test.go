package tickets

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// pngBytes returns a small real PNG image.
func pngBytes(tb testing.TB) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func hashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestAttachmentsAreStoredByContentHash(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	shot := pngBytes(t)
	log := []byte("2026-03-04 10:00:01 ERROR export failed: relation \"invoices\" does not exist\n")
	nt := validTicket()
	nt.Attachments = []Attachment{
		{Name: "screenshot.png", ContentType: "application/octet-stream", Data: shot}, // the client's type is not trusted
		{Name: `C:\Users\jana\Desktop\production.log`, ContentType: "text/plain", Data: log},
		{Name: "../../etc/again.png", Data: shot}, // same content, another name
		{Name: "screenshot.png", Data: shot},      // an exact duplicate
	}
	tk, token, err := e.File(ctx, nt)
	if err != nil {
		t.Fatal(err)
	}
	want := []AttachmentInfo{
		{Name: "screenshot.png", ContentType: "image/png", SHA256: hashOf(shot), Size: int64(len(shot))},
		{Name: "production.log", ContentType: "text/x-log", SHA256: hashOf(log), Size: int64(len(log))},
		{Name: "again.png", ContentType: "image/png", SHA256: hashOf(shot), Size: int64(len(shot))},
	}
	for i := range want { // a filing's files come with its first message
		want[i].MessageID = tk.Messages[0].ID
	}
	got, err := e.Get(ctx, tk.Number, token)
	if err != nil {
		t.Fatal(err)
	}
	for _, list := range [][]AttachmentInfo{tk.Attachments, got.Attachments} {
		if len(list) != len(want) {
			t.Fatalf("attachments = %+v, want %+v", list, want)
		}
		for i := range want {
			if list[i] != want[i] {
				t.Errorf("attachment %d = %+v, want %+v", i, list[i], want[i])
			}
		}
	}

	// Files: one per content, named by hash, same bytes.
	dir := filepath.Join(e.dir, "attachments")
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Errorf("%d files in attachments/, want 2 (identical content stored once)", len(files))
	}
	for _, data := range [][]byte{shot, log} {
		stored, err := os.ReadFile(filepath.Join(dir, hashOf(data)))
		if err != nil || !bytes.Equal(stored, data) {
			t.Errorf("attachments/%s: %v", hashOf(data), err)
		}
		// Customers' files: the owner's only.
		if fi, err := os.Stat(filepath.Join(dir, hashOf(data))); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("attachments/%s: mode %v, want 0600", hashOf(data), fi.Mode().Perm())
		}
	}
	if fi, err := os.Stat(dir); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o700 {
		t.Errorf("attachments/: mode %v, want 0700", fi.Mode().Perm())
	}

	// Another ticket with the same screenshot reuses the file.
	nt.Attachments = []Attachment{{Name: "shot.png", Data: shot}}
	if _, _, err := e.File(ctx, nt); err != nil {
		t.Fatal(err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 2 {
		t.Errorf("%d files after a second ticket with the same screenshot, want 2", len(files))
	}
	if n := e.count(t, "ticket_attachments"); n != 4 {
		t.Errorf("ticket_attachments = %d rows, want 4", n)
	}
}

func TestAttachmentTypeSniffsAndChecksTheExtension(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("log"))
	w.Close()
	zipData := []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00")
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"notes.txt", []byte("plain words"), "text/plain"},
		{"app.log", []byte("ERROR boom\n"), "text/x-log"},
		{"config.json", []byte(`{"debug": true}`), "application/json"},
		{"broken.json", []byte(`{"debug": `), ""},
		{"logs.zip", zipData, "application/zip"},
		{"logs.tar.gz", gz.Bytes(), "application/gzip"},
		{"shot.PNG", pngBytes(t), "image/png"},
		{"photo.jpg", []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"), "image/jpeg"},
		{"anim.gif", []byte("GIF89a\x01\x00\x01\x00"), "image/gif"},
		{"manual.pdf", []byte("%PDF-1.7\n"), "application/pdf"},
		{"screenshot", pngBytes(t), "image/png"}, // no extension: the content decides
		{"README", []byte("just text"), "text/plain"},
		{"page.html", []byte("<html></html>"), ""},
		{"page.txt", []byte("<!DOCTYPE html><html></html>"), ""},
		{"image.svg", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), ""},
		{"fake.png", []byte("not a png at all"), ""},
		{"shot.txt", pngBytes(t), ""},
		{"tool.exe", []byte("MZ\x90\x00"), ""},
		{"latin1.txt", []byte("caf\xe9"), ""},
		{"noext-binary", []byte{0, 1, 2, 3, 0xfe}, ""},
	}
	for _, tt := range tests {
		if got := attachmentType(tt.name, tt.data); got != tt.want {
			t.Errorf("attachmentType(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSanitizeName(t *testing.T) {
	long := string(bytes.Repeat([]byte("é"), 300)) + ".log"
	for in, want := range map[string]string{
		"report.pdf":                    "report.pdf",
		"../../etc/passwd.txt":          "passwd.txt",
		`C:\Users\jana\Desktop\app.log`: "app.log",
		"bad\x00name\r\n.txt":           "badname.txt",
		"right\u202eexe.txt":            "rightexe.txt", // no bidi overrides
		"..":                            "attachment",
		"dir/":                          "attachment",
		"  spaced.txt  ":                "spaced.txt",
		".hidden":                       "hidden",
		"":                              "attachment",
		long:                            string(bytes.Repeat([]byte("é"), 196)) + ".log",
	} {
		if got := sanitizeName(in); got != want {
			t.Errorf("sanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}
