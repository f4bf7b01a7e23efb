package mail_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/sqlitedb"
)

// TestThreadTx: a ticket's mails in the order written, its own only, and
// a mail enqueued earlier in the same transaction counts.
func TestThreadTx(t *testing.T) {
	db := openDB(t)
	newSender(t, db, mail.SenderConfig{}) // the outbox's table
	m := func(ticket int64, id string) mail.Message {
		msg := simple(0)
		msg.Ticket, msg.MessageID = ticket, id
		return msg
	}
	enqueue(t, db, m(1001, "<a@x>"))
	enqueue(t, db, m(1002, "<other@x>"))
	enqueue(t, db, m(1001, "<b@x>"))
	var got []string
	err := db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
		if _, err := mail.Enqueue(tx, m(1001, "<c@x>")); err != nil {
			return err
		}
		var err error
		got, err = mail.ThreadTx(tx, 1001)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"<a@x>", "<b@x>", "<c@x>"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ThreadTx = %v, want %v", got, want)
	}
}
