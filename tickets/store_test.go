package tickets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

func TestFileNumbersTicketsAndStoresOnlyTheTokenHash(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	var tokens []string
	var numbers []int
	for i := 0; i < 20; i++ {
		tk, token, err := e.File(ctx, validTicket())
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, tk.Number)
		tokens = append(tokens, token)
	}
	for i, n := range numbers {
		if n != 1001+i {
			t.Fatalf("numbers = %v, want 1001, 1002, ...", numbers)
		}
	}

	// Tokens: 32 random bytes, base64url, all different, bytes spread out.
	seen := map[string]bool{}
	byteValues := map[byte]bool{}
	for _, tok := range tokens {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 32 || len(tok) != 43 {
			t.Fatalf("token %q: %d bytes, %v; want 32 bytes of base64url", tok, len(raw), err)
		}
		if seen[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		seen[tok] = true
		for _, b := range raw {
			byteValues[b] = true
		}
	}
	if len(byteValues) < 200 { // 640 random bytes cover ~234 of 256 values
		t.Errorf("tokens use only %d distinct byte values: not random", len(byteValues))
	}

	// Only the hash is stored: the token is nowhere in the database files.
	var stored []byte
	if err := e.db.QueryRow(`SELECT token_hash FROM tickets WHERE number = 1001`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256([]byte(tokens[0])); !bytes.Equal(stored, want[:]) {
		t.Errorf("token_hash is not the SHA-256 of the token")
	}
	files, _ := filepath.Glob(e.dbPath + "*") // the database, its WAL and shared memory
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range tokens {
			if bytes.Contains(data, []byte(tok)) {
				t.Fatalf("token found in %s", filepath.Base(f))
			}
		}
	}
}

func TestGetNeedsTheRightToken(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	filed, token, err := e.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	other, otherToken, err := e.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		number int
		token  string
	}{
		{"missing token", filed.Number, ""},
		{"wrong token", filed.Number, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"another ticket's token", filed.Number, otherToken},
		{"token with a character changed", filed.Number, token[:42] + string(token[42]^1)},
		{"no such ticket", 999_999, token},
	} {
		_, err := e.Get(ctx, tt.number, tt.token)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", tt.name, err)
		}
	}
	if _, err := e.GetByNumber(ctx, 999_999); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetByNumber of a missing ticket: %v, want ErrNotFound", err)
	}

	got, err := e.Get(ctx, filed.Number, token)
	if err != nil {
		t.Fatal(err)
	}
	nt := validTicket()
	if got.ID != filed.ID || got.Number != 1001 || got.Status != StatusNew || got.Plan != PlanBasic || got.Severity != 3 ||
		got.Subject != nt.Subject || got.Email != nt.Email || got.Lang != "en" || got.AnswerInEnglish || got.CallRequired {
		t.Errorf("ticket = %+v", got)
	}
	if !got.CreatedAt.Equal(e.clock.Now()) || !got.UpdatedAt.Equal(got.CreatedAt) || !got.SLADue.Equal(filed.SLADue) || got.SLADue.IsZero() {
		t.Errorf("times: created %v updated %v due %v (filed due %v)", got.CreatedAt, got.UpdatedAt, got.SLADue, filed.SLADue)
	}
	if len(got.Messages) != 1 || got.Messages[0].Author != "customer" || got.Messages[0].Body != nt.Description || got.Messages[0].ID == 0 {
		t.Errorf("messages = %+v", got.Messages)
	}
	if len(got.History) != 1 || got.History[0].Kind != "filed" || got.History[0].Status != StatusNew ||
		got.History[0].Number != 1001 || got.History[0].Seq == 0 || !got.History[0].SLADue.Equal(got.SLADue) || got.History[0].Actor != "customer" {
		t.Errorf("history = %+v", got.History)
	}
	if fmt.Sprint(got.Messages) != fmt.Sprint(filed.Messages) || fmt.Sprint(got.History) != fmt.Sprint(filed.History) {
		t.Errorf("File returned\n%+v\n%+v\nGet returns\n%+v\n%+v", filed.Messages, filed.History, got.Messages, got.History)
	}
	if ev := e.seen(); len(ev) != 2 || ev[0].Kind != "filed" || ev[0].Number != 1001 || ev[1].Number != other.Number || ev[0].Seq >= ev[1].Seq {
		t.Errorf("OnEvent saw %+v", ev)
	}
}

func TestCallRequiredForSeverityOneAndTwo(t *testing.T) {
	e := newEnv(t, nil)
	for sev, want := range map[int]bool{1: true, 2: true, 3: false, 4: false} {
		nt := validTicket()
		nt.Severity = sev
		tk, _, err := e.File(context.Background(), nt)
		if err != nil {
			t.Fatal(err)
		}
		if tk.CallRequired != want {
			t.Errorf("severity %d: CallRequired = %v, want %v", sev, tk.CallRequired, want)
		}
	}
}

func TestStatusAndReplies(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	tk, token, err := e.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	n := tk.Number
	status := func() Status {
		t.Helper()
		got, err := e.GetByNumber(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	lastSeq := tk.History[0].Seq
	step := func(name string, ev Event, err error, wantStatus Status) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ev.Seq <= lastSeq {
			t.Errorf("%s: Seq %d not after %d", name, ev.Seq, lastSeq)
		}
		lastSeq = ev.Seq
		if got := status(); got != wantStatus {
			t.Errorf("%s: status %s, want %s", name, got, wantStatus)
		}
	}

	e.clock.Add(time.Minute)
	ev, err := e.SetStatus(ctx, n, StatusOpen, ActorSupport)
	step("support opens", ev, err, StatusOpen)
	if ev.Kind != "status" || ev.Status != StatusOpen || ev.Actor != "support" || ev.Number != n || !ev.At.Equal(e.clock.Now()) {
		t.Errorf("status event = %+v", ev)
	}

	var verr *ValidationError
	if _, err := e.SetStatus(ctx, n, StatusOpen, ActorSupport); !errors.As(err, &verr) || verr.Fields["status"].Message() != "the ticket is already open" {
		t.Errorf("same status again: %v, want a validation error", err)
	}
	if _, err := e.SetStatus(ctx, n, "pending", ActorCLI); !errors.As(err, &verr) || !strings.Contains(verr.Fields["status"].Message(), "new, open, waiting, solved or closed") {
		t.Errorf("unknown status: %v, want a validation error", err)
	}
	if _, err := e.SetStatus(ctx, n, StatusSolved, "robot"); err == nil {
		t.Error("unknown actor accepted")
	}
	if _, err := e.SetStatus(ctx, 4242, StatusSolved, ActorCLI); !errors.Is(err, ErrNotFound) {
		t.Errorf("status of a missing ticket: %v, want ErrNotFound", err)
	}

	ev, err = e.Reply(ctx, n, ActorSupport, "Which browser do you use?")
	step("support replies", ev, err, StatusOpen)
	if ev.Kind != "reply" || ev.Message == nil || ev.Message.Body != "Which browser do you use?" || ev.Message.Author != "support" || ev.Message.ID == 0 {
		t.Errorf("reply event = %+v (message %+v)", ev, ev.Message)
	}
	ev, err = e.SetStatus(ctx, n, StatusWaiting, ActorCLI)
	step("waiting on customer", ev, err, StatusWaiting)
	ev, err = e.Reply(ctx, n, ActorCustomer, "  Firefox 140.  ")
	step("customer answers: back to open", ev, err, StatusOpen)
	if ev.Message.Body != "Firefox 140." {
		t.Errorf("reply body = %q, want it trimmed", ev.Message.Body)
	}
	lastSeq++ // the status event after the reply
	ev, err = e.SetStatus(ctx, n, StatusSolved, ActorSupport)
	step("solved", ev, err, StatusSolved)
	ev, err = e.Reply(ctx, n, ActorSupport, "Glad it works.")
	step("support reply keeps it solved", ev, err, StatusSolved)
	ev, err = e.Reply(ctx, n, ActorCustomer, "It broke again.")
	step("customer reply reopens", ev, err, StatusOpen)
	lastSeq++
	ev, err = e.Reply(ctx, n, ActorCustomer, "Any news?")
	step("customer reply on open stays open", ev, err, StatusOpen)

	if _, err := e.Reply(ctx, n, ActorCustomer, "   "); !errors.As(err, &verr) || verr.Fields["body"].Message() != "required" {
		t.Errorf("empty reply: %v, want a validation error on body", err)
	}
	if _, err := e.Reply(ctx, n, ActorCustomer, strings.Repeat("x", 20_001)); !errors.As(err, &verr) || verr.Fields["body"].Message() != "at most 20000 characters" {
		t.Errorf("long reply: %v, want a validation error on body", err)
	}
	if _, err := e.Reply(ctx, n, "cli", "hello"); err == nil {
		t.Error("a reply by an unknown author was accepted")
	}
	if _, err := e.Reply(ctx, 4242, ActorCustomer, "hello"); !errors.Is(err, ErrNotFound) {
		t.Errorf("reply to a missing ticket: %v, want ErrNotFound", err)
	}

	ev, err = e.SetStatus(ctx, n, StatusClosed, ActorSupport)
	step("closed", ev, err, StatusClosed)
	if _, err := e.SetStatus(ctx, n, StatusOpen, ActorSupport); !errors.Is(err, ErrClosed) {
		t.Errorf("reopening a closed ticket: %v, want ErrClosed", err)
	}
	if _, err := e.Reply(ctx, n, ActorCustomer, "Hello?"); !errors.Is(err, ErrClosed) {
		t.Errorf("reply on a closed ticket: %v, want ErrClosed", err)
	}

	// The history, the feed and OnEvent agree, in Seq order.
	got, err := e.Get(ctx, n, token)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i, h := range got.History {
		kinds = append(kinds, h.Kind+":"+string(h.Status))
		if i > 0 && h.Seq <= got.History[i-1].Seq {
			t.Errorf("history Seq not increasing: %d after %d", h.Seq, got.History[i-1].Seq)
		}
		if (h.Kind == "reply") != (h.Message != nil) {
			t.Errorf("event %d (%s): message %v", h.Seq, h.Kind, h.Message)
		}
	}
	want := "filed:new status:open reply: status:waiting reply: status:open status:solved reply: reply: status:open reply: status:closed"
	if strings.Join(kinds, " ") != want {
		t.Errorf("history = %s\nwant      %s", strings.Join(kinds, " "), want)
	}
	if len(got.Messages) != 6 || got.Messages[5].Body != "Any news?" {
		t.Errorf("messages = %+v", got.Messages)
	}
	if !got.UpdatedAt.Equal(e.clock.Now()) || !got.CreatedAt.Before(got.UpdatedAt) {
		t.Errorf("created %v updated %v", got.CreatedAt, got.UpdatedAt)
	}
	feed, err := e.EventsAfter(ctx, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", eventValues(feed)) != fmt.Sprintf("%+v", eventValues(got.History)) {
		t.Errorf("EventsAfter(0) = %+v\nhistory = %+v", eventValues(feed), eventValues(got.History))
	}
	if fmt.Sprintf("%+v", eventValues(e.seen())) != fmt.Sprintf("%+v", eventValues(got.History)) {
		t.Errorf("OnEvent saw %+v\nhistory = %+v", eventValues(e.seen()), eventValues(got.History))
	}
}

// eventValues dereferences messages, for comparing events by value.
func eventValues(evs []Event) []any {
	var out []any
	for _, e := range evs {
		var m Message
		if e.Message != nil {
			m = *e.Message
		}
		e.Message = nil
		out = append(out, e, m)
	}
	return out
}

func TestEventsAfterAndSince(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	a, _, err := e.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := e.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	mustEv := func(ev Event, err error) Event {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	a1 := mustEv(e.SetStatus(ctx, a.Number, StatusOpen, ActorCLI))
	mustEv(e.SetStatus(ctx, b.Number, StatusOpen, ActorCLI))
	a2 := mustEv(e.Reply(ctx, a.Number, ActorSupport, "On it."))
	mustEv(e.Reply(ctx, b.Number, ActorSupport, "Looking."))

	// Resume one ticket's feed after the event a page last saw.
	missed, err := e.EventsAfter(ctx, a.Number, a1.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if len(missed) != 1 || missed[0].Seq != a2.Seq || missed[0].Message == nil || missed[0].Message.Body != "On it." {
		t.Errorf("EventsAfter(a, a1) = %+v", missed)
	}
	if none, err := e.EventsAfter(ctx, a.Number, a2.Seq); err != nil || len(none) != 0 {
		t.Errorf("EventsAfter(a, last) = %+v, %v; want none", none, err)
	}
	if _, err := e.EventsAfter(ctx, 4242, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("EventsAfter(missing) = %v, want ErrNotFound", err)
	}

	// All tickets, in pages, as a poller reads them.
	all, err := e.EventsSince(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 6 {
		t.Fatalf("EventsSince(0) = %d events, want 6", len(all))
	}
	var after int64
	var paged []Event
	for {
		page, err := e.EventsSince(ctx, after, 4)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 4 {
			t.Fatalf("page of %d events, limit 4", len(page))
		}
		paged = append(paged, page...)
		after = page[len(page)-1].Seq
	}
	if fmt.Sprint(eventValues(paged)) != fmt.Sprint(eventValues(all)) {
		t.Errorf("paged = %v\nall = %v", eventValues(paged), eventValues(all))
	}
	numbers := ""
	for i, ev := range all {
		numbers += fmt.Sprintf("%d:%s ", ev.Number, ev.Kind)
		if i > 0 && ev.Seq <= all[i-1].Seq {
			t.Errorf("Seq not increasing")
		}
	}
	if numbers != "1001:filed 1002:filed 1001:status 1002:status 1001:reply 1002:reply " {
		t.Errorf("EventsSince order: %s", numbers)
	}
}

// A second process (the command line) changing a ticket through its own
// connection: a poller in the server sees the change with EventsSince.
func TestChangesFromAnotherConnectionReachThePoller(t *testing.T) {
	server := newEnv(t, nil)
	ctx := context.Background()
	tk, _, err := server.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	last := tk.History[0].Seq

	db, err := sqlitedb.Open(server.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cli, err := Open(Config{DB: db, DataDir: server.dir}) // migrations already applied: no-op
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.SetStatus(ctx, tk.Number, StatusSolved, ActorCLI); err != nil {
		t.Fatal(err)
	}
	evs, err := server.EventsSince(ctx, last, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Status != StatusSolved || evs[0].Actor != "cli" || evs[0].Number != tk.Number {
		t.Errorf("poller saw %+v", evs)
	}
}

func TestConcurrentFilingFromTwoStoresNumbersUniquely(t *testing.T) {
	e := newEnv(t, nil)
	db2, err := sqlitedb.Open(e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	other, err := Open(Config{DB: db2, DataDir: e.dir})
	if err != nil {
		t.Fatal(err)
	}
	const perStore = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	numbers := map[int]bool{}
	errs := make(chan error, 2*perStore)
	for _, s := range []*Store{e.Store, other} {
		for i := 0; i < perStore; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tk, _, err := s.File(context.Background(), validTicket())
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if numbers[tk.Number] {
					errs <- fmt.Errorf("number %d given twice", tk.Number)
				}
				numbers[tk.Number] = true
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for n := 1001; n < 1001+2*perStore; n++ {
		if !numbers[n] {
			t.Errorf("number %d missing: numbers are not contiguous", n)
		}
	}
	if got := e.count(t, "tickets"); got != 2*perStore {
		t.Errorf("tickets = %d, want %d", got, 2*perStore)
	}
}

func TestOpenTwiceOnTheSameDatabase(t *testing.T) {
	e := newEnv(t, nil)
	if _, _, err := e.File(context.Background(), validTicket()); err != nil {
		t.Fatal(err)
	}
	again, err := Open(Config{DB: e.db, DataDir: e.dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.GetByNumber(context.Background(), 1001); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Config{DataDir: e.dir}); err == nil {
		t.Error("Open without a DB succeeded")
	}
	var fk int
	e.db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	if fk != 1 {
		t.Error("foreign keys are off")
	}
	if _, err := e.db.Raw().Exec(`INSERT INTO ticket_messages (ticket_id, author, body, created_at) VALUES (9999, 'customer', 'x', 'now')`); err == nil {
		t.Error("a message for a missing ticket was accepted: foreign key not enforced")
	}
}

func BenchmarkFile(b *testing.B) {
	e := newEnv(b, nil)
	ctx := context.Background()
	nt := validTicket()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := e.File(ctx, nt); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tickets/s")
	if got := e.count(b, "tickets"); got != b.N {
		b.Fatalf("tickets in the database = %d, filed %d", got, b.N)
	}
}
