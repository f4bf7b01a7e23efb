package deflect

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// Times are stored with sqlitedb.FormatTime (UTC, milliseconds, fixed width).
func formatTime(t time.Time) string { return sqlitedb.FormatTime(t) }

// row is one event to insert into deflect_events.
type row struct {
	kind       string
	at         time.Time
	query      string   // suggested
	articles   []string // suggested
	belowFloor int      // suggested
	article    string   // opened, solved
	ticket     int      // filed
}

func suggestedRow(in intent) row {
	return row{kind: KindSuggested, at: in.at, query: in.query, articles: in.articles, belowFloor: in.belowFloor}
}

// ending is how a session ends.
type ending struct {
	outcome string // solved, filed, abandoned
	at      time.Time
	article string
	ticket  int
}

// errNotOpen: the session is not open in the database (ended, or unknown).
var errNotOpen = errors.New("session not open")

// writeSession records activity up to the given time on an open session,
// inserts rows and, if end is not nil, ends the session. It returns
// errNotOpen, having written nothing, if the session is not open.
func writeSession(tx *sqlitedb.Tx, id string, activity time.Time, rows []row, end *ending) error {
	var res sql.Result
	var err error
	if end == nil {
		res, err = tx.Exec(`UPDATE deflect_sessions SET last_activity_at = max(last_activity_at, ?)
			WHERE id = ? AND ended_at IS NULL`, formatTime(activity), id)
	} else {
		res, err = tx.Exec(`UPDATE deflect_sessions SET last_activity_at = max(last_activity_at, ?),
			ended_at = ?, outcome = ?, article = ?, ticket = ? WHERE id = ? AND ended_at IS NULL`,
			formatTime(activity), formatTime(end.at), end.outcome, nullString(end.article), nullInt(end.ticket), id)
	}
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errNotOpen
	}
	for _, r := range rows {
		if err := insertEvent(tx, id, r); err != nil {
			return err
		}
	}
	return nil
}

func insertEvent(tx *sqlitedb.Tx, id string, r row) error {
	var query, articles, belowFloor any
	if r.kind == KindSuggested {
		query, belowFloor = r.query, r.belowFloor
		list := r.articles
		if list == nil {
			list = []string{} // "[]": suggestions were asked for, none found
		}
		b, err := json.Marshal(list)
		if err != nil {
			return err
		}
		articles = string(b)
	}
	_, err := tx.Exec(`INSERT INTO deflect_events (session_id, kind, at, query, articles, article, ticket, below_floor)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, r.kind, formatTime(r.at), query, articles, nullString(r.article), nullInt(r.ticket), belowFloor)
	return err
}

// notOpenReason tells ErrUnknownSession from ErrSessionClosed after
// writeSession returned errNotOpen.
func notOpenReason(tx *sqlitedb.Tx, id string) error {
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM deflect_sessions WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return ErrUnknownSession
	}
	return ErrSessionClosed
}

func decodeArticles(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, fmt.Errorf("bad articles %q: %w", s, err)
	}
	return ids, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
