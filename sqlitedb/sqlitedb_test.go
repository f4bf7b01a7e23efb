package sqlitedb

import (
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrateFreshThenExistingDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v1 := fstest.MapFS{"m/001_items.sql": {Data: []byte(`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);`)}}
	if err := db.Migrate("test", v1, "m"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Raw().Exec(`INSERT INTO items (name) VALUES ('kept')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// A later version adds a migration; the first must not run again.
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v2 := fstest.MapFS{
		"m/001_items.sql": v1["m/001_items.sql"],
		"m/002_color.sql": {Data: []byte(`ALTER TABLE items ADD COLUMN color TEXT NOT NULL DEFAULT 'blue';`)},
	}
	if err := db.Migrate("test", v2, "m"); err != nil {
		t.Fatal(err)
	}
	var name, color string
	if err := db.QueryRow(`SELECT name, color FROM items`).Scan(&name, &color); err != nil || name != "kept" || color != "blue" {
		t.Fatalf("after upgrade: %q %q %v", name, color, err)
	}
	// Another owner numbers its migrations independently.
	other := fstest.MapFS{"x/001_other.sql": {Data: []byte(`CREATE TABLE other (id INTEGER PRIMARY KEY);`)}}
	if err := db.Migrate("other", other, "x"); err != nil {
		t.Fatal(err)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n)
	if n != 3 {
		t.Errorf("schema_migrations rows = %d, want 3", n)
	}
}

func TestFailedMigrationLeavesNothingBehind(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bad := fstest.MapFS{"m/001_half.sql": {Data: []byte(`CREATE TABLE half (id INTEGER); INSERT INTO nowhere VALUES (1);`)}}
	err = db.Migrate("test", bad, "m")
	if err == nil || !strings.Contains(err.Error(), "001_half.sql") {
		t.Fatalf("err = %v, want it to name the migration", err)
	}
	var tables int
	db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'half'`).Scan(&tables)
	var applied int
	db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&applied)
	if tables != 0 || applied != 0 {
		t.Errorf("half-applied migration: table %d, recorded %d", tables, applied)
	}
	if err := db.Migrate("test", fstest.MapFS{"m/abc.sql": {Data: []byte(`SELECT 1;`)}}, "m"); err == nil {
		t.Error("a migration without a number was accepted")
	}
}

func TestOpenSettings(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	var fk, timeout int
	db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	db.QueryRow(`PRAGMA busy_timeout`).Scan(&timeout)
	if mode != "wal" || fk != 1 || timeout < 1000 {
		t.Errorf("journal_mode %s, foreign_keys %d, busy_timeout %d", mode, fk, timeout)
	}
}
