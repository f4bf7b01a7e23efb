package sqlitedb

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWriterCommitsEachCallOrUndoesItAlone(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Raw().Exec(`CREATE TABLE t (n INTEGER PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	w := db.writer
	ctx := context.Background()
	errOdd := errors.New("odd")
	var wg sync.WaitGroup
	results := make([]error, 200)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = w.Do(ctx, func(tx *Tx) error {
				// The next number, as ticket numbers are taken: it must see
				// the calls before it in the same batch.
				if _, err := tx.Exec(`INSERT INTO t (n, v) SELECT coalesce(max(n), 0) + 1, ? FROM t`, i); err != nil {
					return err
				}
				switch {
				case i%2 == 1:
					return errOdd // written, then undone
				case i == 100:
					panic("a bug")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	var ok int
	for i, err := range results {
		switch {
		case i%2 == 1 && !errors.Is(err, errOdd):
			t.Errorf("call %d: %v, want its own error", i, err)
		case i == 100 && (err == nil || errors.Is(err, errOdd)):
			t.Errorf("call %d panicked: %v, want an error", i, err)
		case i%2 == 0 && i != 100 && err != nil:
			t.Errorf("call %d: %v", i, err)
		case err == nil:
			ok++
		}
	}
	var rows, maxN, odd int
	if err := db.QueryRow(`SELECT count(*), max(n), sum(v % 2) FROM t`).Scan(&rows, &maxN, &odd); err != nil {
		t.Fatal(err)
	}
	if rows != ok || maxN != ok || odd != 0 {
		t.Fatalf("%d rows, numbers up to %d, %d odd; want %d rows numbered 1..%d, none odd", rows, maxN, odd, ok, ok)
	}
	// A cancelled caller's work is not done; the others' is.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.Do(cancelled, func(tx *Tx) error { _, err := tx.Exec(`INSERT INTO t (v) VALUES (0)`); return err }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
}

// A caller that gives up while queued behind a slow batch returns at once,
// and its work never runs; the batch's own calls are unaffected.
func TestWriterCallerGivesUpWhileQueued(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Raw().Exec(`CREATE TABLE t (v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	w := db.writer
	inside, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- w.Do(context.Background(), func(tx *Tx) error {
			close(inside)
			<-release // hold the batch open
			_, err := tx.Exec(`INSERT INTO t (v) VALUES (1)`)
			return err
		})
	}()
	<-inside
	ctx, cancel := context.WithCancel(context.Background())
	queued := make(chan error, 1)
	go func() {
		queued <- w.Do(ctx, func(tx *Tx) error {
			_, err := tx.Exec(`INSERT INTO t (v) VALUES (2)`)
			return err
		})
	}()
	cancel()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued call: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// The writer still works, and the abandoned work never ran.
	if err := w.Do(context.Background(), func(tx *Tx) error { _, err := tx.Exec(`INSERT INTO t (v) VALUES (3)`); return err }); err != nil {
		t.Fatal(err)
	}
	var sum int
	if err := db.QueryRow(`SELECT sum(v) FROM t`).Scan(&sum); err != nil || sum != 4 {
		t.Fatalf("sum %d, %v; want 1 + 3", sum, err)
	}
}

// Many callers giving up at random moments never leave the writer stuck.
func TestWriterSurvivesCallersGivingUp(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Raw().Exec(`CREATE TABLE t (v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	w := db.writer
	var wg sync.WaitGroup
	var committed atomic.Int64
	for i := 0; i < 400; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*100*time.Microsecond)
			defer cancel()
			err := w.Do(ctx, func(tx *Tx) error {
				_, err := tx.Exec(`INSERT INTO t (v) VALUES (1)`)
				return err
			})
			if err == nil {
				committed.Add(1)
			} else if !errors.Is(err, context.DeadlineExceeded) {
				t.Error(err)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("writer stuck")
	}
	var n int64
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != committed.Load() {
		t.Fatalf("%d rows, %d calls said committed (%v)", n, committed.Load(), err)
	}
	if err := w.Do(context.Background(), func(tx *Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// OnCommit hooks run after their own work commits, never for work that was
// undone, whether it ran alone or in a batch with others.
func TestWriterOnCommitOnlyAfterCommit(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Raw().Exec(`CREATE TABLE t (v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	errNo := errors.New("no")
	var ran atomic.Int32
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.Write(ctx, func(tx *Tx) error {
				if _, err := tx.Exec(`INSERT INTO t (v) VALUES (?)`, i); err != nil {
					return err
				}
				tx.OnCommit(func() {
					// The work is visible to readers when the hook runs.
					var n int
					if err := db.QueryRow(`SELECT count(*) FROM t WHERE v = ?`, i).Scan(&n); err != nil || n != 1 {
						t.Errorf("hook %d ran before its row was visible: %d %v", i, n, err)
					}
					ran.Add(1)
				})
				if i%3 == 0 {
					return errNo
				}
				return nil
			})
			if (i%3 == 0) != errors.Is(err, errNo) {
				t.Errorf("call %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if got, want := ran.Load(), int32(100-34); got != want {
		t.Errorf("%d hooks ran, want %d (only the committed calls')", got, want)
	}
}

func TestTimeLayout(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 4, 5, 123_456_789, time.FixedZone("CET", 3600))
	s := FormatTime(at)
	if s != "2026-12-03T08:04:05.123Z" || len(s) != len(TimeLayout) {
		t.Fatalf("FormatTime = %q", s)
	}
	whole := FormatTime(at.Truncate(time.Second))
	if whole != "2026-12-03T08:04:05.000Z" {
		t.Fatalf("a whole second is %q, want the milliseconds written", whole)
	}
	for _, in := range []string{s, "2026-12-03T08:04:05.123456789Z", "2026-12-03T09:04:05.123+01:00"} {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(at.Truncate(time.Millisecond)) && !got.Equal(at) {
			t.Errorf("ParseTime(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseTime("yesterday"); err == nil {
		t.Error("ParseTime accepted garbage")
	}
	// SQLite's own function writes the same text, so hand-written SQL
	// compares stored times correctly.
	db, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var sqlite string
	if err := db.QueryRow(`SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ?)`, "2026-12-03T08:04:05.123456789Z").Scan(&sqlite); err != nil || sqlite != s {
		t.Errorf("SQLite formats %q (%v), want %q", sqlite, err, s)
	}
}

// A caller's context cancelled while its work runs must not interrupt the
// statement: SQLite would roll back the whole batch, other callers' work too.
func TestWriterIgnoresCancellationInsideTheWork(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Raw().Exec(`CREATE TABLE t (v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	release := make(chan struct{})
	other := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- db.Write(ctx, func(tx *Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (1)`); err != nil {
				return err
			}
			close(started)
			<-release
			// Cancelled now: the statement still runs.
			_, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (2)`)
			return err
		})
	}()
	<-started
	go func() { // queues behind, so it shares the next batch or this one's successor
		other <- db.Write(context.Background(), func(tx *Tx) error {
			_, err := tx.ExecContext(context.Background(), `INSERT INTO t (v) VALUES (4)`)
			return err
		})
	}()
	cancel()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("work whose context was cancelled while it ran: %v", err)
	}
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	var sum int
	if err := db.QueryRow(`SELECT sum(v) FROM t`).Scan(&sum); err != nil || sum != 7 {
		t.Fatalf("sum %d (%v), want 7: every call's work committed", sum, err)
	}
}
