package testportal

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// poolSize is sqlitedb.Open's number of pooled connections.
const poolSize = 8

// FillDatabase makes db full for real: SQLite refuses to grow the file
// (PRAGMA max_page_count at its current size), so writes that need room
// fail with its own "database or disk is full" (SQLITE_FULL), as on a full
// disk. The limit is a connection's, so it is set on every pooled one, and
// the pool keeps them all. FreeDatabase lifts it.
func FillDatabase(t testing.TB, db *sqlitedb.DB) { t.Helper(); setPageLimit(t, db, 1) }

// FreeDatabase gives a database FillDatabase filled room again.
func FreeDatabase(t testing.TB, db *sqlitedb.DB) { t.Helper(); setPageLimit(t, db, 1<<30) }

func setPageLimit(t testing.TB, db *sqlitedb.DB, pages int64) {
	t.Helper()
	pool := db.Raw()
	pool.SetMaxIdleConns(poolSize) // a connection closed and opened again would forget the limit
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range poolSize {
		c, err := pool.Conn(ctx) // held until all are: each is a different connection
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
			t.Fatal(err)
		}
	}
}
