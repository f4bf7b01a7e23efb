package deflect

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// TestEmailSession: a session started for a mailed question is written
// whole in the caller's transaction (nothing if it rolls back), carries
// the source email on its events, counts an article opened from the mail,
// outlives a web draft's 30 idle minutes, is filed like any other, and is
// abandoned after EmailAbandonAfter.
var errRollback = errors.New("roll back")

func TestEmailSession(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	start := func(commit bool) string {
		var id string
		err := f.db.Write(ctx, func(tx *sqlitedb.Tx) error {
			var err error
			id, err = f.tr.StartEmailTx(ctx, tx, "en", "I forgot my password", []string{"en/reset-password", "en/sso"}, 1)
			if err == nil && !commit {
				return errRollback
			}
			return err
		})
		if commit && err != nil {
			t.Fatal(err)
		}
		return id
	}
	if id := start(false); len(f.kinds(t, id)) != 0 {
		t.Fatalf("a rolled-back start left events %v", f.kinds(t, id))
	}
	id := start(true)
	web := f.start(t)
	trail, err := f.tr.Trail(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 2 || trail[0].Kind != KindStarted || trail[1].Kind != KindSuggested ||
		!slices.Equal(trail[1].Articles, []string{"en/reset-password", "en/sso"}) || trail[1].BelowFloor != 1 || trail[1].Query != "I forgot my password" {
		t.Fatalf("trail %+v", trail)
	}
	for _, e := range trail {
		if e.Source != SourceEmail {
			t.Errorf("%s event's source %q, want email", e.Kind, e.Source)
		}
	}
	if webTrail, _ := f.tr.Trail(ctx, web); webTrail[0].Source != SourceWeb {
		t.Errorf("a web session's source %q", webTrail[0].Source)
	}
	if err := f.tr.Opened(ctx, id, "en/reset-password"); err != nil {
		t.Fatal(err)
	}

	f.clock.Add(time.Hour)
	f.sweep(t)
	if k := f.kinds(t, web); k[len(k)-1] != KindAbandoned {
		t.Errorf("the web draft idle for an hour: %v, want abandoned", k)
	}
	if k := f.kinds(t, id); k[len(k)-1] != KindOpened {
		t.Errorf("the mailed session after an hour: %v, want still open", k)
	}

	filed := start(true)
	if err := f.tr.Filed(ctx, filed, 1001); err != nil {
		t.Fatal(err)
	}
	if k := f.kinds(t, filed); k[len(k)-1] != KindFiled {
		t.Errorf("filed: %v", k)
	}

	f.clock.Add(EmailAbandonAfter)
	f.sweep(t)
	if k := f.kinds(t, id); k[len(k)-1] != KindAbandoned {
		t.Errorf("the mailed session after %v: %v, want abandoned", EmailAbandonAfter, k)
	}
}
