package tickets

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

// TestReplyByMail: a customer's reply by mail reopens a solved ticket as a
// reply on the page does, keeps the mail's files and the mail itself with
// the reply's message, calls NotifyTx with its events, and commits with the
// caller's claim (a failing claim stores nothing).
func TestReplyByMail(t *testing.T) {
	var notified [][]Event
	e := newEnv(t, nil, func(c *Config) {
		c.NotifyTx = func(_ context.Context, _ *sqlitedb.Tx, _ int, evs []Event) error {
			notified = append(notified, evs)
			return nil
		}
	})
	ctx := context.Background()
	tk, _, err := e.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.SetStatus(ctx, tk.Number, StatusSolved, ActorSupport); err != nil {
		t.Fatal(err)
	}
	notified = nil
	shot := pngBytes(t)
	eml := []byte("From: jana@acme.example\r\nSubject: Re: export\r\n\r\nIt fails again.\r\n")

	// A claim that fails undoes everything.
	refused := errors.New("seen before")
	_, err = e.ReplyByMail(ctx, tk.Number, MailReply{Body: "It fails again.", EML: eml,
		Claim: func(context.Context, *sqlitedb.Tx) error { return refused }})
	if !errors.Is(err, refused) {
		t.Fatalf("err = %v, want the claim's", err)
	}
	if got, _ := e.GetByNumber(ctx, tk.Number); len(got.Messages) != 1 || got.Status != StatusSolved || len(got.Attachments) != 0 {
		t.Fatalf("a refused claim left %d messages, status %s, %d attachments", len(got.Messages), got.Status, len(got.Attachments))
	}

	claimed := 0
	ev, err := e.ReplyByMail(ctx, tk.Number, MailReply{Body: "  It fails again.\n", EML: eml, EMLName: "reply.eml",
		Attachments: []Attachment{{Name: "screen.png", Data: shot}},
		Claim:       func(context.Context, *sqlitedb.Tx) error { claimed++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if claimed != 1 || ev.Kind != KindReply || ev.Actor != ActorCustomer || ev.Message.Body != "It fails again." {
		t.Fatalf("claimed %d, event %+v", claimed, ev)
	}
	got, err := e.GetByNumber(ctx, tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusOpen {
		t.Errorf("status %s, want a solved ticket reopened", got.Status)
	}
	reply := got.Messages[len(got.Messages)-1]
	if len(got.Attachments) != 2 {
		t.Fatalf("attachments %+v", got.Attachments)
	}
	for _, a := range got.Attachments {
		if a.MessageID != reply.ID {
			t.Errorf("%s belongs to message %d, want the reply %d", a.Name, a.MessageID, reply.ID)
		}
	}
	if a := got.Attachments[1]; a.Name != "reply.eml" || a.ContentType != EMLType || a.Size != int64(len(eml)) {
		t.Errorf("the mail kept as %+v", a)
	}
	_, f, err := e.OpenAttachment(got, got.Attachments[1].SHA256)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(f)
	f.Close()
	if string(data) != string(eml) {
		t.Errorf("the .eml reads %q", data)
	}
	if len(notified) != 1 || len(notified[0]) != 2 || notified[0][0].Kind != KindReply || notified[0][1].Status != StatusOpen {
		t.Errorf("NotifyTx saw %+v, want the reply and the reopening", notified)
	}

	// A file a filing refuses refuses the reply; CheckMailAttachments
	// sorts them out first.
	exe := Attachment{Name: "setup.exe", Data: []byte("MZ\x90\x00\x03binary")}
	if _, err := e.ReplyByMail(ctx, tk.Number, MailReply{Body: "x", Attachments: []Attachment{exe}}); !isFieldError(err, "attachments") {
		t.Errorf("a .exe: err = %v, want a validation error of attachments", err)
	}
	ok, bad := CheckMailAttachments([]Attachment{exe, {Name: "screen.png", Data: shot}})
	if len(ok) != 1 || ok[0].Name != "screen.png" || len(bad) != 1 || bad[0].Name != "setup.exe" || bad[0].Code != fields.FileType {
		t.Errorf("CheckMailAttachments = %+v, %+v", ok, bad)
	}

	// Closed is final, by mail too.
	if _, err := e.SetStatus(ctx, tk.Number, StatusClosed, ActorSupport); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ReplyByMail(ctx, tk.Number, MailReply{Body: "again"}); !errors.Is(err, ErrClosed) {
		t.Errorf("reply on a closed ticket: %v, want ErrClosed", err)
	}
}

func isFieldError(err error, field string) bool {
	var ve *ValidationError
	return errors.As(err, &ve) && ve.Has(field)
}

func TestDetectLang(t *testing.T) {
	e := newEnv(t, nil)
	if got := e.DetectLang("Dobrý den, nejde mi export a nevím, jak to opravit. Je to chyba?"); got != "cs" {
		t.Errorf("Czech text detected as %q", got)
	}
}
