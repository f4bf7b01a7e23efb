package tickets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/orbitask/portal/fields"
)

func TestValidationNamesTheFieldAndStoresNothing(t *testing.T) {
	e := newEnv(t, nil)
	long := func(n int) string { return strings.Repeat("x", n) }
	png := pngBytes(t)
	tests := []struct {
		name  string
		edit  func(*NewTicket)
		field string
		msg   string
	}{
		{"name missing", func(n *NewTicket) { n.Name = "" }, "name", "required"},
		{"name blank", func(n *NewTicket) { n.Name = "   " }, "name", "required"},
		{"name too long", func(n *NewTicket) { n.Name = long(201) }, "name", "at most 200 characters"},
		{"name with newline", func(n *NewTicket) { n.Name = "Jana\nNováková" }, "name", "single line"},
		{"name not UTF-8", func(n *NewTicket) { n.Name = "Jana \xff" }, "name", "UTF-8"},
		{"company missing", func(n *NewTicket) { n.Company = "" }, "company", "required"},
		{"company too long", func(n *NewTicket) { n.Company = long(201) }, "company", "at most 200 characters"},
		{"phone missing", func(n *NewTicket) { n.Phone = "" }, "phone", "required"},
		{"phone too few digits", func(n *NewTicket) { n.Phone = "12 34 5" }, "phone", "6 to 20 digits"},
		{"phone too many digits", func(n *NewTicket) { n.Phone = "+" + strings.Repeat("1", 21) }, "phone", "6 to 20 digits"},
		{"phone letters", func(n *NewTicket) { n.Phone = "+1 555 CALL NOW" }, "phone", "only digits"},
		{"phone dots", func(n *NewTicket) { n.Phone = "777.123.456" }, "phone", "only digits"},
		{"email missing", func(n *NewTicket) { n.Email = "" }, "email", "required"},
		{"email no at", func(n *NewTicket) { n.Email = "jana.acme.example" }, "email", "not an e-mail address"},
		{"email no dot in domain", func(n *NewTicket) { n.Email = "jana@localhost" }, "email", "not an e-mail address"},
		{"email display name", func(n *NewTicket) { n.Email = "Jana <jana@acme.example>" }, "email", "not an e-mail address"},
		{"email double dot", func(n *NewTicket) { n.Email = "jana@acme..example" }, "email", "not an e-mail address"},
		{"email leading dot", func(n *NewTicket) { n.Email = "jana@.example" }, "email", "not an e-mail address"},
		{"email trailing dot", func(n *NewTicket) { n.Email = "jana@acme.example." }, "email", "not an e-mail address"},
		{"email two ats", func(n *NewTicket) { n.Email = "jana@x@acme.example" }, "email", "not an e-mail address"},
		{"email spaces", func(n *NewTicket) { n.Email = "jana nova@acme.example" }, "email", "not an e-mail address"},
		{"email with mailto parameters", func(n *NewTicket) { n.Email = "a?cc=x%40evil.example&b=@example.com" }, "email", "not an e-mail address"},
		{"email quoted local part", func(n *NewTicket) { n.Email = `"a b"@acme.example` }, "email", "not an e-mail address"},
		{"email ip literal", func(n *NewTicket) { n.Email = "jana@[127.0.0.1]" }, "email", "not an e-mail address"},
		{"subject right-to-left override", func(n *NewTicket) { n.Subject = "invoice \u202egpj.exe" }, "subject", "contains invisible or direction-changing characters"},
		{"name zero-width space", func(n *NewTicket) { n.Name = "Ja\u200bna" }, "name", "contains invisible or direction-changing characters"},
		{"company byte order mark", func(n *NewTicket) { n.Company = "\ufeffAcme" }, "company", "contains invisible or direction-changing characters"},
		{"version isolate", func(n *NewTicket) { n.Version = "5.2\u2066" }, "version", "contains invisible or direction-changing characters"},
		{"subject missing", func(n *NewTicket) { n.Subject = "" }, "subject", "required"},
		{"subject too long", func(n *NewTicket) { n.Subject = long(201) }, "subject", "at most 200 characters"},
		{"subject two lines", func(n *NewTicket) { n.Subject = "a\nb" }, "subject", "single line"},
		{"description missing", func(n *NewTicket) { n.Description = " \n " }, "description", "required"},
		{"description too long", func(n *NewTicket) { n.Description = long(20_001) }, "description", "at most 20000 characters"},
		{"description NUL", func(n *NewTicket) { n.Description = "broken \x00 here" }, "description", "control characters"},
		{"severity missing", func(n *NewTicket) { n.Severity = 0 }, "severity", "must be 1, 2, 3 or 4"},
		{"severity 5", func(n *NewTicket) { n.Severity = 5 }, "severity", "must be 1, 2, 3 or 4"},
		{"severity negative", func(n *NewTicket) { n.Severity = -1 }, "severity", "must be 1, 2, 3 or 4"},
		{"version too long", func(n *NewTicket) { n.Version = long(101) }, "version", "at most 100 characters"},
		{"environment too long", func(n *NewTicket) { n.Environment = long(5001) }, "environment", "at most 5000 characters"},
		{"error messages too long", func(n *NewTicket) { n.ErrorMessages = long(20_001) }, "error_messages", "at most 20000 characters"},
		{"deployment unknown", func(n *NewTicket) { n.Deployment = "aws" }, "deployment", "cloud, own-server or other"},
		{"lang unknown", func(n *NewTicket) { n.Lang = "xx" }, "lang", "not a language code"},
		{"lang a name", func(n *NewTicket) { n.Lang = "english" }, "lang", "not a language code"},
		{"session too long", func(n *NewTicket) { n.DeflectionSession = long(129) }, "deflection_session", "at most 128 characters"},
		{"six attachments", func(n *NewTicket) {
			for i := 0; i < 6; i++ {
				n.Attachments = append(n.Attachments, Attachment{Name: "a.txt", Data: []byte("log line")})
			}
		}, "attachments", "at most 5 files"},
		{"attachment too big", func(n *NewTicket) {
			n.Attachments = []Attachment{{Name: "huge.log", Data: make([]byte, MaxAttachmentSize+1)}}
		}, "attachments", "huge.log: larger than 10 MiB"},
		{"attachment empty", func(n *NewTicket) {
			n.Attachments = []Attachment{{Name: "empty.txt"}}
		}, "attachments", "empty.txt: the file is empty"},
		{"attachment executable", func(n *NewTicket) {
			n.Attachments = []Attachment{{Name: "tool.exe", ContentType: "image/png", Data: []byte("MZ\x90\x00\x03\x00\x00\x00")}}
		}, "attachments", "tool.exe: not an allowed type"},
		{"attachment HTML named txt", func(n *NewTicket) {
			n.Attachments = []Attachment{{Name: "notes.txt", ContentType: "text/plain", Data: []byte("<html><script>alert(1)</script></html>")}}
		}, "attachments", "notes.txt: not an allowed type"},
		{"attachment PNG named pdf", func(n *NewTicket) {
			n.Attachments = []Attachment{{Name: "scan.pdf", ContentType: "application/pdf", Data: png}}
		}, "attachments", "scan.pdf: not an allowed type"},
		{"one bad among good", func(n *NewTicket) {
			n.Attachments = []Attachment{{Name: "ok.png", Data: png}, {Name: "bad.svg", Data: []byte("<svg></svg>")}}
		}, "attachments", "bad.svg: not an allowed type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nt := validTicket()
			tt.edit(&nt)
			_, token, err := e.File(context.Background(), nt)
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			if token != "" {
				t.Error("a token was returned for an invalid ticket")
			}
			if got := verr.Fields[tt.field].Message(); !strings.Contains(got, tt.msg) {
				t.Errorf("Fields[%q] = %q, want it to say %q (all: %v)", tt.field, got, tt.msg, verr.Fields)
			}
			if len(verr.Fields) != 1 {
				t.Errorf("fields at fault = %v, want only %q", verr.Fields, tt.field)
			}
		})
	}
	for _, table := range []string{"tickets", "ticket_messages", "ticket_attachments", "ticket_events"} {
		if n := e.count(t, table); n != 0 {
			t.Errorf("%s has %d rows after invalid tickets only", table, n)
		}
	}
	files, _ := os.ReadDir(filepath.Join(e.dir, "attachments"))
	if len(files) != 0 {
		t.Errorf("attachments written for invalid tickets: %d files", len(files))
	}
	if got := e.seen(); len(got) != 0 {
		t.Errorf("OnEvent called %d times for invalid tickets", len(got))
	}
}

func TestValidationListsEveryFieldAtFault(t *testing.T) {
	e := newEnv(t, nil)
	_, _, err := e.File(context.Background(), NewTicket{Phone: "abc", Email: "nope", Severity: 9})
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	for _, f := range []string{"name", "company", "phone", "email", "subject", "description", "severity"} {
		if !verr.Has(f) {
			t.Errorf("field %q not reported; got %v", f, verr.Fields)
		}
	}
	if msg := err.Error(); !strings.Contains(msg, "email: not an e-mail address") || !strings.Contains(msg, "severity: must be 1, 2, 3 or 4") {
		t.Errorf("Error() = %q", msg)
	}
}

func TestValidInputIsAcceptedAndCleaned(t *testing.T) {
	e := newEnv(t, nil)
	nt := validTicket()
	nt.Name = "  Jana Nováková  "
	nt.Phone = "(555) 123-4567"
	nt.Email = "jana.novakova+support@mail.acme.example"
	nt.Deployment = DeploymentOwnServer
	nt.Version = "5.2.1"
	nt.Environment = "Debian 12\nPostgreSQL 16"
	nt.ErrorMessages = "ERROR: relation \"invoices\" does not exist\n\tat export.go:42"
	nt.Lang = "pt_br"
	nt.DeflectionSession = "ds_0123456789abcdef"
	tk, _, err := e.File(context.Background(), nt)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Name != "Jana Nováková" || tk.Deployment != "own-server" || tk.Lang != "pt-BR" || !tk.AnswerInEnglish ||
		tk.DeflectionSession != "ds_0123456789abcdef" || tk.Environment != nt.Environment {
		t.Errorf("stored ticket = %+v", tk)
	}
	got, err := e.GetByNumber(context.Background(), tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != tk.Name || got.Lang != "pt-BR" || got.ErrorMessages != nt.ErrorMessages || got.Phone != nt.Phone {
		t.Errorf("read back = %+v", got)
	}
}

func TestValidationCodes(t *testing.T) {
	e := newEnv(t, nil)
	nt := validTicket()
	nt.Subject = strings.Repeat("x", 201)
	nt.Severity = 7
	nt.Attachments = []Attachment{{Name: "empty.txt"}, {Name: "C:\\tmp\\tool.exe", Data: []byte("MZ\x90\x00")},
		{Name: "huge.log", Data: make([]byte, MaxAttachmentSize+1)}}
	_, _, err := e.File(context.Background(), nt)
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	if p := verr.Fields["subject"]; p.Code != fields.TooLong || p.Params.Int("max") != 200 {
		t.Errorf("subject: %+v", p)
	}
	if p := verr.Fields["severity"]; p.Code != fields.Severity {
		t.Errorf("severity: %+v", p)
	}
	p := verr.Fields["attachments"]
	want := []fields.FileProblem{
		{Name: "empty.txt", Code: fields.FileEmpty},
		{Name: "tool.exe", Code: fields.FileType},
		{Name: "huge.log", Code: fields.FileTooLarge, Params: fields.Params{"max_mb": 10}},
	}
	if p.Code != fields.Files || !reflect.DeepEqual(p.Files, want) {
		t.Errorf("attachments: %+v, want the files %+v", p, want)
	}
	if msg := p.Message(); msg != "empty.txt: the file is empty; tool.exe: not an allowed type (text, log, JSON, ZIP, gzip, PNG, JPEG, GIF or PDF); huge.log: larger than 10 MiB" {
		t.Errorf("attachments says %q", msg)
	}

	// Too large before reading: the same problem, the name cleaned as File cleans it.
	big := AttachmentTooLarge("../../big.zip")
	if got := big.Fields["attachments"]; got.Code != fields.Files || len(got.Files) != 1 || got.Message() != "big.zip: larger than 10 MiB" {
		t.Errorf("AttachmentTooLarge = %+v", got)
	}
}
