package deflect

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// OnSuggested hears every answer that showed articles (not only each
// intent); OnOutcome hears each ending once it is committed, and nothing
// of an ending that was undone or refused.
func TestHooksHearSuggestionsAndCommittedOutcomes(t *testing.T) {
	f := open(t)
	var mu sync.Mutex
	suggested := 0
	outcomes := map[string]int{}
	f.tr.Close()
	tr, err := Open(Config{DB: f.db, Now: f.clock.Now,
		OnSuggested: func() { mu.Lock(); suggested++; mu.Unlock() },
		OnOutcome:   func(o string) { mu.Lock(); outcomes[o]++; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	f.tr = tr
	ctx := context.Background()

	solved, filed, undone := f.start(t), f.start(t), f.start(t)
	f.start(t) // left idle: abandoned by the sweep
	// One burst of three keystrokes (one intent), and an answer with none.
	for _, q := range []string{"vp", "vpn", "vpn drops"} {
		if err := tr.Suggested(ctx, solved, q, []string{"en/vpn"}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Suggested(ctx, filed, "zzz", nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := tr.Solved(ctx, solved, "en/vpn"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Solved(ctx, solved, "en/vpn"); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("second solve: %v", err)
	}
	if err := tr.Filed(ctx, filed, 1001); err != nil {
		t.Fatal(err)
	}
	errUndo := errors.New("undo")
	err = f.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		if err := tr.FiledTx(ctx, tx, undone, 1002); err != nil {
			return err
		}
		return errUndo
	})
	if !errors.Is(err, errUndo) {
		t.Fatal(err)
	}
	mu.Lock()
	got := maps.Clone(outcomes)
	mu.Unlock()
	if want := map[string]int{"solved": 1, "filed": 1}; !maps.Equal(got, want) {
		t.Errorf("outcomes before the sweep %v, want %v", got, want)
	}

	f.clock.Add(31 * time.Minute)
	if err := tr.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if suggested != 3 {
		t.Errorf("OnSuggested called %d times, want 3 (answers with articles)", suggested)
	}
	// The idle session and the one whose filing was undone are abandoned.
	if want := map[string]int{"solved": 1, "filed": 1, "abandoned": 2}; !maps.Equal(outcomes, want) {
		t.Errorf("outcomes %v, want %v", outcomes, want)
	}
}
