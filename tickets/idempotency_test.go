package tickets

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "c0ffee-2026-03-04-retry-key"

// A filing repeated with its idempotency key gets the first ticket and the
// same token (which still opens it), and nothing more is stored.
func TestFilingRepeatedWithItsKeyGetsTheFirstTicket(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	nt := validTicket()
	nt.IdempotencyKey = testKey
	nt.Attachments = []Attachment{{Name: "app.log", Data: []byte("ERROR export failed\n")}}
	first, token, err := e.File(ctx, nt)
	if err != nil {
		t.Fatal(err)
	}
	again, token2, err := e.File(ctx, nt)
	if err != nil {
		t.Fatal(err)
	}
	if again.Number != first.Number || token2 != token {
		t.Fatalf("repeat: #%d token %q, want #%d and the first token", again.Number, token2, first.Number)
	}
	if _, err := e.Get(ctx, first.Number, token2); err != nil {
		t.Fatalf("the repeated token does not open the ticket: %v", err)
	}
	if n := e.count(t, "tickets"); n != 1 {
		t.Fatalf("%d tickets stored, want 1", n)
	}
	if n := e.count(t, "ticket_events"); n != 1 {
		t.Fatalf("%d events stored, want the one filed event", n)
	}
	if n := len(e.seen()); n != 1 {
		t.Fatalf("OnEvent called %d times, want once", n)
	}
	// The key is stored hashed: the raw key is nowhere in the database.
	var raw int
	e.db.QueryRow(`SELECT count(*) FROM ticket_idempotency WHERE instr(key_hash, ?) OR instr(sealed_token, ?)`, testKey, token).Scan(&raw)
	if raw != 0 {
		t.Error("the key or the token is stored in the clear")
	}

	// Another filing under the same key: refused, nothing stored.
	other := nt
	other.Subject = "Something else entirely"
	if _, _, err := e.File(ctx, other); !errors.Is(err, ErrKeyReused) {
		t.Fatalf("another filing with the same key: %v, want ErrKeyReused", err)
	}
	other.Subject, other.Attachments = nt.Subject, []Attachment{{Name: "app.log", Data: []byte("ERROR other content\n")}}
	if _, _, err := e.File(ctx, other); !errors.Is(err, ErrKeyReused) {
		t.Fatalf("another attachment with the same key: %v, want ErrKeyReused", err)
	}
	if n := e.count(t, "tickets"); n != 1 {
		t.Fatalf("%d tickets stored, want 1", n)
	}

	// After IdempotencyTTL the key is forgotten: the same filing is a new ticket.
	e.clock.Add(IdempotencyTTL + time.Minute)
	later, _, err := e.File(ctx, nt)
	if err != nil {
		t.Fatal(err)
	}
	if later.Number == first.Number {
		t.Fatal("a key past its lifetime still answered with the first ticket")
	}
	if n := e.count(t, "ticket_idempotency"); n != 1 {
		t.Fatalf("%d keys stored, want the expired one gone and the new one", n)
	}
}

// Duplicates sent at once with one key file one ticket; every caller gets
// it. The key is claimed in the filing's transaction, so the one writer
// decides.
func TestConcurrentRepeatsFileOneTicket(t *testing.T) {
	e := newEnv(t, nil)
	nt := validTicket()
	nt.IdempotencyKey = testKey
	const n = 12
	numbers := make([]int, n)
	tokens := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tk, token, err := e.File(context.Background(), nt)
			numbers[i], tokens[i], errs[i] = tk.Number, token, err
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("filing %d: %v", i, errs[i])
		}
		if numbers[i] != numbers[0] || tokens[i] != tokens[0] {
			t.Fatalf("filing %d got #%d, filing 0 #%d (or another token)", i, numbers[i], numbers[0])
		}
	}
	if got := e.count(t, "tickets"); got != 1 {
		t.Fatalf("%d tickets stored, want 1", got)
	}
}

// A key too short to be unguessable, or with spaces, is refused as a field.
func TestIdempotencyKeyFormat(t *testing.T) {
	e := newEnv(t, nil)
	for _, k := range []string{"short", strings.Repeat("k", MaxIdempotencyKey+1), "sixteen chars with spaces"} {
		nt := validTicket()
		nt.IdempotencyKey = k
		_, _, err := e.File(context.Background(), nt)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Fields["idempotency_key"].Code != "idempotency_key" {
			t.Errorf("key %q: %v, want a problem with idempotency_key", k, err)
		}
	}
	if n := e.count(t, "tickets"); n != 0 {
		t.Fatalf("%d tickets stored", n)
	}
}
