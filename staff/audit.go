package staff

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

// AuditEntry is one line of the staff audit log.
type AuditEntry struct {
	ID      int64
	At      time.Time
	ActorID int64  // 0 for the command line and failed logins
	Actor   string // the actor's email, "cli:<user>", or "anonymous"
	Action  string // "user added", "user disabled", "login", "login failed", "logout", "password changed", "token created", "token revoked", or what Record was given
	Subject string // usually the email of the account acted on
	Detail  map[string]string
}

// Actions recorded by the store itself.
const (
	actionUserAdded    = "user added"
	actionUserDisabled = "user disabled"
	actionLogin        = "login"
	actionLoginFailed  = "login failed"
	actionLogout       = "logout"
	actionPassword     = "password changed"
	actionTokenCreated = "token created"
	actionTokenRevoked = "token revoked"
)

// anonymous is the actor of a failed login.
const anonymous = "anonymous"

const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
	maxAuditAction    = 100
)

// audit writes an audit entry in tx, so it commits with the change it
// describes. actorID 0 is stored as NULL.
func audit(ctx context.Context, tx *sqlitedb.Tx, at time.Time, actorID int64, actor, action, subject string, detail map[string]string) error {
	if detail == nil {
		detail = map[string]string{}
	}
	data, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	var id any
	if actorID != 0 {
		id = actorID
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO staff_audit (at, actor_id, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		formatTime(at), id, actor, action, subject, string(data))
	return err
}

// Audit returns the latest entries, newest first: at most limit of them
// (limit <= 0 means 100; at most 1000).
func (s *Store) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	limit = min(limit, maxAuditLimit)
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, coalesce(actor_id, 0), actor, action, subject, detail
		FROM staff_audit ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("staff: audit: %w", err)
	}
	defer rows.Close()
	var entries []AuditEntry
	for rows.Next() {
		var (
			e          AuditEntry
			at, detail string
		)
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Actor, &e.Action, &e.Subject, &detail); err != nil {
			return nil, fmt.Errorf("staff: audit: %w", err)
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("staff: audit: %w", err)
		}
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			return nil, fmt.Errorf("staff: audit entry %d: %w", e.ID, err)
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("staff: audit: %w", err)
	}
	return entries, nil
}

// Record adds an audit entry for something a staff member did outside
// this package (a push to the content repository, say); action is
// required.
func (s *Store) Record(ctx context.Context, actor User, action, subject string, detail map[string]string) error {
	if action == "" || len(action) > maxAuditAction {
		return invalid("action", fields.ActionLength, "max", maxAuditAction)
	}
	if actor.ID == 0 {
		return fmt.Errorf("staff: record %q: actor has no id", action)
	}
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		return audit(ctx, tx, s.now().UTC(), actor.ID, actor.Email, action, subject, detail)
	})
	if err != nil {
		return fmt.Errorf("staff: record %q: %w", action, err)
	}
	return nil
}
