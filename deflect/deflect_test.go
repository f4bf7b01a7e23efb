package deflect

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orbitask/portal/internal/testclock"
	"github.com/orbitask/portal/sqlitedb"
)

func newClock() *testclock.Clock { return testclock.New(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)) }

type fixture struct {
	db    *sqlitedb.DB
	path  string
	clock *testclock.Clock
	tr    *Tracker
}

// open creates a database in a temporary directory and a tracker on it with
// the default gaps and a settable clock.
func open(t *testing.T) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portal.db")
	db, err := sqlitedb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{db: db, path: path, clock: newClock()}
	f.reopen(t)
	return f
}

// reopen opens a new tracker on the same database (after Close: a restart).
func (f *fixture) reopen(t *testing.T) {
	t.Helper()
	tr, err := Open(Config{DB: f.db, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	f.tr = tr
}

func (f *fixture) start(t *testing.T) string {
	t.Helper()
	id, err := f.tr.Start(context.Background(), "en")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// flush runs what the background ticker does, now.
func (f *fixture) flush(t *testing.T) {
	t.Helper()
	if err := f.tr.flush(context.Background(), false); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) sweep(t *testing.T) {
	t.Helper()
	if err := f.tr.sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// kinds returns the kinds of the session's events as stored, in order,
// without flushing anything first (unlike Trail).
func (f *fixture) kinds(t *testing.T, id string) []string {
	t.Helper()
	rows, err := f.db.Query(`SELECT kind FROM deflect_events WHERE session_id = ? ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

func (f *fixture) trail(t *testing.T, id string) []Event {
	t.Helper()
	evs, err := f.tr.Trail(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func suggestedEvents(evs []Event) []Event {
	var out []Event
	for _, e := range evs {
		if e.Kind == KindSuggested {
			out = append(out, e)
		}
	}
	return out
}

func TestSuggestedCoalescesKeystrokeBursts(t *testing.T) {
	type keystroke struct {
		after time.Duration // since the previous keystroke
		query string
	}
	typing := func(word string, every time.Duration) []keystroke {
		var ks []keystroke
		for i := 1; i <= len(word); i++ {
			ks = append(ks, keystroke{every, word[:i]})
		}
		return ks
	}
	tests := []struct {
		name    string
		strokes []keystroke
		want    []string // queries of the "suggested" rows
	}{
		{
			name:    "20 keystrokes within the gap are one intent",
			strokes: typing("cannot reset passwor", 150*time.Millisecond),
			want:    []string{"cannot reset passwor"},
		},
		{
			// The gap is measured between keystrokes, not from the first:
			// 20 keystrokes 1.9 s apart last 38 s and are still one intent.
			name:    "slow steady typing is one intent",
			strokes: typing("cannot reset passwor", 1900*time.Millisecond),
			want:    []string{"cannot reset passwor"},
		},
		{
			name: "two bursts separated by a pause are two intents",
			strokes: append(typing("vpn", 100*time.Millisecond),
				append([]keystroke{{5 * time.Second, "vpn d"}}, typing("vpn drops", 100*time.Millisecond)[5:]...)...),
			want: []string{"vpn", "vpn drops"},
		},
		{
			name:    "a pause of exactly the gap ends the burst",
			strokes: []keystroke{{0, "a"}, {2 * time.Second, "ab"}},
			want:    []string{"a", "ab"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t)
			ctx := context.Background()
			id := f.start(t)
			for i, k := range tc.strokes {
				f.clock.Add(k.after)
				ids := []string{fmt.Sprintf("en/a%d", i), "en/b", "en/c"}
				if err := f.tr.Suggested(ctx, id, k.query, ids, 0); err != nil {
					t.Fatal(err)
				}
				f.flush(t) // the ticker may run at any time
			}
			if got := f.kinds(t, id); len(got) > len(tc.want) {
				t.Fatalf("rows before the last burst ended: %v", got) // the last burst is still pending
			}
			f.clock.Add(2 * time.Second)
			f.flush(t)
			got := suggestedEvents(f.trail(t, id))
			var queries []string
			for _, e := range got {
				queries = append(queries, e.Query)
			}
			if !slices.Equal(queries, tc.want) {
				t.Fatalf("suggested rows %q, want %q", queries, tc.want)
			}
			last := got[len(got)-1]
			wantIDs := []string{fmt.Sprintf("en/a%d", len(tc.strokes)-1), "en/b", "en/c"}
			if !slices.Equal(last.Articles, wantIDs) {
				t.Errorf("articles of the last intent %q, want the last keystroke's %q in rank order", last.Articles, wantIDs)
			}
			if !last.At.Equal(f.clock.Now().Add(-2 * time.Second)) {
				t.Errorf("intent at %v, want the time of its last keystroke %v", last.At, f.clock.Now().Add(-2*time.Second))
			}
		})
	}
}

func TestPendingIntentIsWrittenBeforeTheNextEvent(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func(tr *Tracker, id string) error
		want []string
	}{
		{"opened", func(tr *Tracker, id string) error { return tr.Opened(ctx, id, "en/vpn") },
			[]string{"started", "suggested", "opened"}},
		{"solved", func(tr *Tracker, id string) error { return tr.Solved(ctx, id, "en/vpn") },
			[]string{"started", "suggested", "solved"}},
		{"continued", func(tr *Tracker, id string) error { return tr.Continued(ctx, id) },
			[]string{"started", "suggested", "continued"}},
		{"filed", func(tr *Tracker, id string) error { return tr.Filed(ctx, id, 1042) },
			[]string{"started", "suggested", "filed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t)
			id := f.start(t)
			for _, q := range []string{"v", "vp", "vpn"} {
				if err := f.tr.Suggested(ctx, id, q, []string{"en/vpn"}, 0); err != nil {
					t.Fatal(err)
				}
			}
			if got := f.kinds(t, id); !slices.Equal(got, []string{"started"}) {
				t.Fatalf("rows while typing: %v, want only started (no write per keystroke)", got)
			}
			if err := tc.call(f.tr, id); err != nil {
				t.Fatal(err)
			}
			if got := f.kinds(t, id); !slices.Equal(got, tc.want) {
				t.Fatalf("rows %v, want %v", got, tc.want)
			}
			evs := f.trail(t, id)
			if evs[1].Query != "vpn" || !slices.Equal(evs[1].Articles, []string{"en/vpn"}) {
				t.Errorf("suggested = %+v", evs[1])
			}
			for i := 1; i < len(evs); i++ {
				if evs[i].Seq <= evs[i-1].Seq {
					t.Errorf("events out of order: %+v", evs)
				}
			}
		})
	}
}

func TestTrailFields(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	id := f.start(t)
	t0 := f.clock.Now()
	if err := f.tr.Suggested(ctx, id, "printer offline", []string{"en/printer", "en/network"}, 0); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(10 * time.Second)
	if err := f.tr.Suggested(ctx, id, "no results here", nil, 2); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	if err := f.tr.Opened(ctx, id, "en/printer"); err != nil {
		t.Fatal(err)
	}
	if err := f.tr.Continued(ctx, id); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Minute)
	if err := f.tr.Filed(ctx, id, 1042); err != nil {
		t.Fatal(err)
	}
	got := f.trail(t, id)
	for i := range got {
		got[i].Seq = 0
	}
	want := []Event{
		{Session: id, Kind: "started", At: t0},
		{Session: id, Kind: "suggested", At: t0, Query: "printer offline", Articles: []string{"en/printer", "en/network"}},
		{Session: id, Kind: "suggested", At: t0.Add(10 * time.Second), Query: "no results here", Articles: []string{}, BelowFloor: 2},
		{Session: id, Kind: "opened", At: t0.Add(11 * time.Second), Article: "en/printer"},
		{Session: id, Kind: "continued", At: t0.Add(11 * time.Second)},
		{Session: id, Kind: "filed", At: t0.Add(71 * time.Second), Ticket: 1042},
	}
	if len(got) != len(want) {
		t.Fatalf("trail %+v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Session != w.Session || g.Kind != w.Kind || !g.At.Equal(w.At) || g.Query != w.Query ||
			!slices.Equal(g.Articles, w.Articles) || (g.Articles == nil) != (w.Articles == nil) || g.Article != w.Article || g.Ticket != w.Ticket {
			t.Errorf("event %d = %+v, want %+v", i, g, w)
		}
	}
	var outcome string
	var ticket int
	if err := f.db.QueryRow(`SELECT outcome, ticket FROM deflect_sessions WHERE id = ?`, id).Scan(&outcome, &ticket); err != nil || outcome != "filed" || ticket != 1042 {
		t.Errorf("session outcome %q ticket %d (%v)", outcome, ticket, err)
	}
}

func TestEndedSessionsAcceptNothingMore(t *testing.T) {
	ctx := context.Background()
	enders := map[string]func(f *fixture, id string) error{
		"solved": func(f *fixture, id string) error { return f.tr.Solved(ctx, id, "en/vpn") },
		"filed":  func(f *fixture, id string) error { return f.tr.Filed(ctx, id, 7) },
		"filed in a transaction": func(f *fixture, id string) error {
			return f.db.Write(ctx, func(tx *sqlitedb.Tx) error { return f.tr.FiledTx(ctx, tx, id, 7) })
		},
		"abandoned": func(f *fixture, id string) error {
			f.clock.Add(31 * time.Minute)
			return f.tr.sweep(ctx)
		},
	}
	calls := map[string]func(f *fixture, id string) error{
		"Touch":     func(f *fixture, id string) error { return f.tr.Touch(ctx, id) },
		"Suggested": func(f *fixture, id string) error { return f.tr.Suggested(ctx, id, "q", []string{"en/a"}, 0) },
		"Opened":    func(f *fixture, id string) error { return f.tr.Opened(ctx, id, "en/a") },
		"Solved":    func(f *fixture, id string) error { return f.tr.Solved(ctx, id, "en/a") },
		"Continued": func(f *fixture, id string) error { return f.tr.Continued(ctx, id) },
		"Filed":     func(f *fixture, id string) error { return f.tr.Filed(ctx, id, 8) },
		"FiledTx": func(f *fixture, id string) error {
			return f.db.Write(ctx, func(tx *sqlitedb.Tx) error { return f.tr.FiledTx(ctx, tx, id, 8) })
		},
	}
	for endName, end := range enders {
		for callName, call := range calls {
			t.Run(endName+"/"+callName, func(t *testing.T) {
				f := open(t)
				id := f.start(t)
				if err := end(f, id); err != nil {
					t.Fatal(err)
				}
				before := f.kinds(t, id)
				if err := call(f, id); !errors.Is(err, ErrSessionClosed) {
					t.Fatalf("%s after %s: err = %v, want ErrSessionClosed", callName, endName, err)
				}
				f.clock.Add(time.Hour)
				f.flush(t)
				f.sweep(t)
				if got := f.kinds(t, id); !slices.Equal(got, before) {
					t.Errorf("rows after the session ended: %v, want %v", got, before)
				}
			})
		}
	}
}

func TestUnknownSession(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	filedTx := func(id string) error {
		return f.db.Write(ctx, func(tx *sqlitedb.Tx) error { return f.tr.FiledTx(ctx, tx, id, 1) })
	}
	for _, id := range []string{"", "nope", "AAAAAAAAAAAAAAAAAAAAAA", "not-base64-but-22-long", "AAAAAAAAAAAAAAAAAAAAAAAA"} {
		for name, err := range map[string]error{
			"Touch":     f.tr.Touch(ctx, id),
			"Suggested": f.tr.Suggested(ctx, id, "q", nil, 0),
			"Opened":    f.tr.Opened(ctx, id, "en/a"),
			"Solved":    f.tr.Solved(ctx, id, "en/a"),
			"Continued": f.tr.Continued(ctx, id),
			"Filed":     f.tr.Filed(ctx, id, 1),
			"FiledTx":   filedTx(id),
			"Trail":     func() error { _, err := f.tr.Trail(ctx, id); return err }(),
		} {
			if !errors.Is(err, ErrUnknownSession) {
				t.Errorf("%s(%q) = %v, want ErrUnknownSession", name, id, err)
			}
		}
	}
}

func TestAbandonment(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	idle := f.start(t)
	typing := f.start(t) // typed at minute 20
	touched := f.start(t)
	solved := f.start(t)
	filed := f.start(t)
	if err := f.tr.Solved(ctx, solved, "en/vpn"); err != nil {
		t.Fatal(err)
	}
	if err := f.tr.Filed(ctx, filed, 3); err != nil {
		t.Fatal(err)
	}

	f.clock.Add(20 * time.Minute)
	if err := f.tr.Suggested(ctx, typing, "late", []string{"en/late"}, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.tr.Touch(ctx, touched); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(9*time.Minute + 59*time.Second)
	f.sweep(t)
	if got := f.kinds(t, idle); slices.Contains(got, KindAbandoned) {
		t.Fatalf("abandoned before 30 minutes: %v", got)
	}

	f.clock.Add(2 * time.Second) // 30 min 1 s after the start
	f.flush(t)
	f.sweep(t)
	wantKinds := map[string][]string{
		idle:    {"started", "abandoned"},
		typing:  {"started", "suggested"},
		touched: {"started"},
		solved:  {"started", "solved"},
		filed:   {"started", "filed"},
	}
	for id, want := range wantKinds {
		if got := f.kinds(t, id); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", id, got, want)
		}
	}
	if err := f.tr.Touch(ctx, idle); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("touch abandoned session: %v, want ErrSessionClosed", err)
	}
	var outcome, last, ended string
	f.db.QueryRow(`SELECT outcome, last_activity_at, ended_at FROM deflect_sessions WHERE id = ?`, idle).Scan(&outcome, &last, &ended)
	if outcome != "abandoned" || last != "2025-03-01T09:00:00.000Z" || ended != "2025-03-01T09:30:01.000Z" {
		t.Errorf("abandoned session: outcome %q, last activity %q, ended %q", outcome, last, ended)
	}
	// The Touch was recorded by the sweep, so it survives a restart.
	f.db.QueryRow(`SELECT last_activity_at FROM deflect_sessions WHERE id = ?`, touched).Scan(&last)
	if last != "2025-03-01T09:20:00.000Z" {
		t.Errorf("touched session: last activity %q", last)
	}

	f.clock.Add(20 * time.Minute) // 30 min 1 s after the last activity
	f.sweep(t)
	for _, id := range []string{typing, touched} {
		if got := f.kinds(t, id); got[len(got)-1] != KindAbandoned {
			t.Errorf("%s: %v, want abandoned last", id, got)
		}
	}
	for _, id := range []string{solved, filed} {
		if got := f.kinds(t, id); slices.Contains(got, KindAbandoned) {
			t.Errorf("ended session abandoned: %v", got)
		}
	}
}

func TestPendingIntentOfAnAbandonedSessionIsKept(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	id := f.start(t)
	if err := f.tr.Suggested(ctx, id, "lost", []string{"en/x"}, 0); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(31 * time.Minute)
	f.sweep(t) // without a flush in between
	if got := f.kinds(t, id); !slices.Equal(got, []string{"started", "suggested", "abandoned"}) {
		t.Fatalf("rows %v", got)
	}
}

func TestRestartKeepsOpenSessions(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	open1, open2, solved := f.start(t), f.start(t), f.start(t)
	if err := f.tr.Solved(ctx, solved, "en/a"); err != nil {
		t.Fatal(err)
	}
	if err := f.tr.Suggested(ctx, open1, "mid burst", []string{"en/b"}, 0); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(15 * time.Minute)
	if err := f.tr.Touch(ctx, open2); err != nil {
		t.Fatal(err)
	}
	if err := f.tr.Close(); err != nil { // writes the intent still in its burst
		t.Fatal(err)
	}
	if err := f.tr.Touch(ctx, open1); err == nil {
		t.Error("a closed tracker accepted a call")
	}
	if got := f.kinds(t, open1); !slices.Equal(got, []string{"started", "suggested"}) {
		t.Fatalf("after close: %v, want the pending intent written", got)
	}

	f.reopen(t)
	for _, id := range []string{open1, open2} {
		if err := f.tr.Touch(ctx, id); err != nil {
			t.Errorf("open session after restart: %v", err)
		}
	}
	if err := f.tr.Touch(ctx, solved); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("solved session after restart: %v, want ErrSessionClosed", err)
	}
	if err := f.tr.Opened(ctx, open1, "en/b"); err != nil {
		t.Fatal(err)
	}
	if err := f.tr.Close(); err != nil {
		t.Fatal(err)
	}

	// Down for a while: at the next start, sessions idle for longer than
	// AbandonAfter are abandoned; the rest stay open.
	f.clock.Add(20 * time.Minute) // open1, open2 idle 20 min (their Touch at restart counted)
	f.reopen(t)
	if err := f.tr.Touch(ctx, open1); err != nil {
		t.Errorf("session idle 20 min: %v", err)
	}
	if err := f.tr.Close(); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(31 * time.Minute)
	f.reopen(t)
	for _, id := range []string{open1, open2} {
		if err := f.tr.Touch(ctx, id); !errors.Is(err, ErrSessionClosed) {
			t.Errorf("session idle 31 min across a restart: %v, want ErrSessionClosed", err)
		}
		if got := f.kinds(t, id); got[len(got)-1] != KindAbandoned {
			t.Errorf("%v, want abandoned", got)
		}
	}
}

func TestFiledTxCommitsAndRollsBackWithTheCallersTransaction(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	if _, err := f.db.Raw().Exec(`CREATE TABLE tickets (number INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	id := f.start(t)
	if err := f.tr.Suggested(ctx, id, "invoice", []string{"en/invoice"}, 0); err != nil {
		t.Fatal(err)
	}
	errUndo := errors.New("undo")
	fileTicket := func(number int, commit bool) error {
		err := f.db.Write(ctx, func(tx *sqlitedb.Tx) error {
			if _, err := tx.Exec(`INSERT INTO tickets (number) VALUES (?)`, number); err != nil {
				return err
			}
			if err := f.tr.FiledTx(ctx, tx, id, number); err != nil {
				return err
			}
			if !commit {
				return errUndo
			}
			return nil
		})
		if !commit && errors.Is(err, errUndo) {
			return nil
		}
		return err
	}

	if err := fileTicket(1042, false); err != nil {
		t.Fatal(err)
	}
	var tickets int
	f.db.QueryRow(`SELECT count(*) FROM tickets`).Scan(&tickets)
	if got := f.kinds(t, id); tickets != 0 || !slices.Equal(got, []string{"started"}) {
		t.Fatalf("after rollback: %d tickets, rows %v", tickets, got)
	}
	// The session is still open, held in memory, and its intent was not lost.
	if err := f.tr.Touch(ctx, id); err != nil {
		t.Fatalf("touch after rollback: %v", err)
	}
	f.tr.mu.Lock()
	held := f.tr.drafts[id] != nil
	f.tr.mu.Unlock()
	if !held {
		t.Error("session dropped from memory by a filing that was undone")
	}
	f.clock.Add(3 * time.Second)
	f.flush(t)
	if got := f.kinds(t, id); !slices.Equal(got, []string{"started", "suggested"}) {
		t.Fatalf("after rollback and flush: %v", got)
	}

	if err := f.tr.Suggested(ctx, id, "invoice missing vat", []string{"en/vat"}, 0); err != nil {
		t.Fatal(err)
	}
	if err := fileTicket(1043, true); err != nil {
		t.Fatal(err)
	}
	f.tr.mu.Lock()
	held = f.tr.drafts[id] != nil
	f.tr.mu.Unlock()
	if held {
		t.Error("filed session still held in memory after the commit")
	}
	if err := f.tr.Touch(ctx, id); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("touch after commit: %v, want ErrSessionClosed", err)
	}
	f.clock.Add(3 * time.Second)
	f.flush(t)
	evs := f.trail(t, id)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Equal(kinds, []string{"started", "suggested", "suggested", "filed"}) || evs[1].Query != "invoice" || evs[2].Query != "invoice missing vat" || evs[3].Ticket != 1043 {
		t.Fatalf("after commit: %+v", evs)
	}
}

// Writes that keep a session open take its intents; if such a write is
// undone, the intents go back and are written by the next one, once.
func TestUndoneWriteKeepsTheIntents(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	id := f.start(t)
	if err := f.tr.Suggested(ctx, id, "printer jam", []string{"en/printer"}, 0); err != nil {
		t.Fatal(err)
	}
	errUndo := errors.New("undo")
	err := f.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		if err := f.tr.writeEvent(tx, id, &row{kind: KindOpened, article: "en/printer"}, "", f.tr.clock()); err != nil {
			return err
		}
		return errUndo // a later step of the same write fails
	})
	if !errors.Is(err, errUndo) {
		t.Fatal(err)
	}
	if got := f.kinds(t, id); !slices.Equal(got, []string{"started"}) {
		t.Fatalf("rows after an undone write: %v", got)
	}
	if err := f.tr.Opened(ctx, id, "en/printer"); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(3 * time.Second)
	f.flush(t)
	if got := f.kinds(t, id); !slices.Equal(got, []string{"started", "suggested", "opened"}) {
		t.Fatalf("rows %v, want the intent once, before the event", got)
	}
}

// TestBackgroundTicker uses the real clock: the ticker alone writes an
// ended burst, and the sweeper alone abandons an idle session.
func TestBackgroundTicker(t *testing.T) {
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tr, err := Open(Config{DB: db, BurstGap: 20 * time.Millisecond, AbandonAfter: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := context.Background()
	id, err := tr.Start(ctx, "de")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"d", "dr", "dru", "druc", "drucker"} {
		if err := tr.Suggested(ctx, id, q, []string{"de/drucker"}, 0); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what, query string, args ...any) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			var n int
			if err := db.QueryRow(query, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not written after 5 s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("suggested", `SELECT count(*) FROM deflect_events WHERE session_id = ? AND kind = 'suggested' AND query = 'drucker'`, id)
	waitFor("abandoned", `SELECT count(*) FROM deflect_events WHERE session_id = ? AND kind = 'abandoned'`, id)
}

// TestConcurrentUse is for -race: many drafters typing, opening, touching
// and ending their sessions while the ticker and the sweeper run.
func TestConcurrentUse(t *testing.T) {
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tr, err := Open(Config{DB: db, BurstGap: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := tr.Start(ctx, "en")
			if err != nil {
				errs <- err
				return
			}
			for i := 0; i < 200; i++ {
				if err := tr.Suggested(ctx, id, fmt.Sprintf("q%d", i), []string{"en/a", "en/b"}, 0); err != nil {
					errs <- err
					return
				}
				if i%50 == 49 {
					if err := tr.Opened(ctx, id, "en/a"); err != nil {
						errs <- err
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			if err := tr.Touch(ctx, id); err != nil {
				errs <- err
				return
			}
			var end error
			switch w % 3 {
			case 0:
				end = tr.Solved(ctx, id, "en/a")
			case 1:
				end = tr.Filed(ctx, id, w+1)
			}
			if end != nil {
				errs <- end
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	var opened, sessions int
	db.QueryRow(`SELECT count(*) FROM deflect_events WHERE kind = 'opened'`).Scan(&opened)
	db.QueryRow(`SELECT count(*) FROM deflect_sessions`).Scan(&sessions)
	if opened != 32 || sessions != 32 { // "en/a" opened 4 times: once per session
		t.Errorf("opened %d, sessions %d", opened, sessions)
	}
	// Each session's "suggested" rows precede its ending and none follow it.
	var late int
	db.QueryRow(`SELECT count(*) FROM deflect_events e JOIN deflect_events x ON x.session_id = e.session_id
		WHERE x.kind IN ('solved', 'filed', 'abandoned') AND e.id > x.id`).Scan(&late)
	if late != 0 {
		t.Errorf("%d events after a session ended", late)
	}
}

func TestOpenRequiresDB(t *testing.T) {
	if _, err := Open(Config{}); err == nil {
		t.Error("Open without a database succeeded")
	}
}

// BenchmarkSuggested measures the keystroke path: many customers typing at
// once into their own sessions, with the ticker writing ended bursts in the
// background. Every goroutine types into its own set of sessions.
func BenchmarkSuggested(b *testing.B) {
	for _, sessions := range []int{100, 10000} {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
			db, err := sqlitedb.Open(filepath.Join(b.TempDir(), "portal.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			tr, err := Open(Config{DB: db})
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			ctx := context.Background()
			ids := make([]string, sessions)
			for i := range ids {
				if ids[i], err = tr.Start(ctx, "en"); err != nil {
					b.Fatal(err)
				}
			}
			articles := []string{"en/reset-password", "en/two-factor", "en/locked-out", "en/sso", "en/email-change"}
			var next sync.Mutex
			worker := 0
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				next.Lock()
				w := worker
				worker++
				next.Unlock()
				i := w
				for pb.Next() {
					id := ids[i%len(ids)]
					if err := tr.Suggested(ctx, id, "cannot reset my password after the update", articles, 0); err != nil {
						b.Error(err)
						return
					}
					i += 7919 // another session each time, as keystrokes of many customers interleave
				}
			})
		})
	}
}

// TestFiledTxDoesNotWaitForTheFlusher: a flush queued behind the filing's
// transaction must not make FiledTx wait for it (FiledTx runs inside the
// writer and never queues), and the intent is written once.
func TestFiledTxDoesNotWaitForTheFlusher(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	id := f.start(t)
	if err := f.tr.Suggested(ctx, id, "slow disk", []string{"en/disk"}, 0); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(3 * time.Second) // the burst has ended
	flushed := make(chan error, 1)
	err := f.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		go func() { flushed <- f.tr.flush(ctx, false) }()
		time.Sleep(50 * time.Millisecond) // let the flush queue behind this write
		began := time.Now()
		if err := f.tr.FiledTx(ctx, tx, id, 9); err != nil {
			return err
		}
		if took := time.Since(began); took > time.Second {
			t.Errorf("FiledTx took %v", took)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if got := f.kinds(t, id); !slices.Equal(got, []string{"started", "suggested", "filed"}) {
		t.Fatalf("rows %v", got)
	}
}
