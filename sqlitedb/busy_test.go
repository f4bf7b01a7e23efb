package sqlitedb

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// A write that finds another process holding the database past the busy
// timeout fails and is reported to OnBusy; other failures are not.
func TestOnBusyCountsBusyWritesOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	var busy atomic.Int32
	db, err := OpenWith(Config{Path: path, BusyTimeout: 50 * time.Millisecond, OnBusy: func() { busy.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`CREATE TABLE items (id INTEGER PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// A failure of the work itself is no busy database.
	if err := db.Write(ctx, func(*Tx) error { return errors.New("refused") }); err == nil {
		t.Fatal("a failing write succeeded")
	}
	if n := busy.Load(); n != 0 {
		t.Fatalf("OnBusy called %d times for a write that failed on its own", n)
	}

	// Another process (a second pool on the same file) holds the write lock.
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Raw().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO items DEFAULT VALUES`)
		return err
	})
	if err == nil {
		t.Fatal("a write succeeded while another connection held the lock")
	}
	if n := busy.Load(); n != 1 {
		t.Errorf("OnBusy called %d times, want 1 (write error: %v)", n, err)
	}
	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO items DEFAULT VALUES`)
		return err
	}); err != nil {
		t.Fatalf("after the lock is released: %v", err)
	}
	if n := busy.Load(); n != 1 {
		t.Errorf("OnBusy called %d times after a successful write, want still 1", n)
	}
}
