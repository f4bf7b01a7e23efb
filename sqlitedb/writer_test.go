package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
)

func TestWriterCommitsEachCallOrUndoesItAlone(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (n INTEGER PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	w := NewWriter(db)
	ctx := context.Background()
	errOdd := errors.New("odd")
	var wg sync.WaitGroup
	results := make([]error, 200)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = w.Do(ctx, func(tx *sql.Tx) error {
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
	if err := w.Do(cancelled, func(tx *sql.Tx) error { _, err := tx.Exec(`INSERT INTO t (v) VALUES (0)`); return err }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
}
