package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// setPageLimit sets PRAGMA max_page_count on every pooled connection (it
// is a connection's setting): at the file's current size, writes that
// need room fail with SQLite's own SQLITE_FULL, as on a full disk.
func setPageLimit(t *testing.T, db *DB, pages int64) {
	t.Helper()
	pool := db.Raw()
	pool.SetMaxIdleConns(8) // keep every connection, and its limit
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var conns []*sql.Conn
	for range 8 {
		c, err := pool.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}

// A write that fails because the database is full says so (ErrUnavailable,
// with the reason), is what StorageProblem reports, and the report clears
// once a write that changes something succeeds: not before, since work
// that writes nothing commits even on a full disk.
func TestWriteWhenStorageIsFull(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Raw().Exec(`CREATE TABLE t (v BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	insert := func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO t (v) VALUES (zeroblob(20000))`) // needs new pages
		return err
	}
	if _, ok := db.StorageProblem(); ok {
		t.Fatal("a new database reports a problem")
	}
	setPageLimit(t, db, 1) // SQLite keeps the current size: no room to grow

	err = db.Write(ctx, insert)
	var ue *UnavailableError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ue) || ue.Reason != "database or disk is full" {
		t.Fatalf("write on a full database: %v", err)
	}
	first, ok := db.StorageProblem()
	if !ok || first.Reason != "database or disk is full" || first.Failures != 1 || first.Since.IsZero() {
		t.Fatalf("problem after a failed write: %+v %v", first, ok)
	}
	if err := db.Write(ctx, insert); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("second write: %v", err)
	}
	// Work that writes nothing commits, and proves nothing.
	if err := db.Write(ctx, func(tx *Tx) error { _, err := tx.Exec(`DELETE FROM t WHERE 0`); return err }); err != nil {
		t.Fatal(err)
	}
	p, ok := db.StorageProblem()
	if !ok || p.Failures != 2 || !p.Since.Equal(first.Since) || p.Last.Before(first.Last) {
		t.Fatalf("problem after two failures and an empty write: %+v %v", p, ok)
	}
	// Work that fails on its own says nothing of the storage.
	errOwn := errors.New("own")
	if err := db.Write(ctx, func(*Tx) error { return errOwn }); err != errOwn {
		t.Fatalf("the work's own error came back as %v", err)
	}

	setPageLimit(t, db, 1<<30) // room again
	if err := db.Write(ctx, insert); err != nil {
		t.Fatal(err)
	}
	if p, ok := db.StorageProblem(); ok {
		t.Fatalf("problem after a successful write: %+v", p)
	}
}

func TestUnavailableClassifies(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A real SQLite error that is the statement's fault.
	_, constraint := db.Raw().Exec(`CREATE TABLE t (v TEXT NOT NULL); INSERT INTO t (v) VALUES (NULL)`)
	if constraint == nil {
		t.Fatal("no constraint error")
	}
	plain := errors.New("plain")
	for _, c := range []struct {
		name   string
		err    error
		reason string // "" for not a storage failure
	}{
		{"disk full writing a file", fmt.Errorf("attachment: %w", &fs.PathError{Op: "write", Path: "a", Err: syscall.ENOSPC}), "no space left on device"},
		{"quota", &fs.PathError{Op: "write", Path: "a", Err: syscall.EDQUOT}, syscall.EDQUOT.Error()},
		{"read-only file system", &fs.PathError{Op: "open", Path: "a", Err: syscall.EROFS}, syscall.EROFS.Error()},
		{"a constraint", constraint, ""},
		{"a plain error", plain, ""},
		{"a missing file", &fs.PathError{Op: "open", Path: "a", Err: syscall.ENOENT}, ""},
	} {
		got := Unavailable(c.err)
		var ue *UnavailableError
		isUE := errors.As(got, &ue)
		switch {
		case c.reason == "" && (got != c.err || isUE):
			t.Errorf("%s: classified as %v", c.name, got)
		case c.reason != "" && (!isUE || ue.Reason != c.reason || !errors.Is(got, ErrUnavailable) || !errors.Is(got, c.err)):
			t.Errorf("%s: %v (%+v)", c.name, got, ue)
		case c.reason != "" && !strings.Contains(got.Error(), c.err.Error()):
			t.Errorf("%s: the message %q lost the cause", c.name, got)
		case c.reason != "" && Unavailable(got) != got:
			t.Errorf("%s: classified twice", c.name)
		}
	}
	if Unavailable(nil) != nil {
		t.Error("nil became an error")
	}
}
