package tickets

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// ErrNoLinkMail refuses to revoke a ticket's links where no mail can carry
// the new one (Config.NotifyNewLinkTx is nil): the customer would be locked
// out of their ticket.
var ErrNoLinkMail = errors.New("revoking needs e-mail to send the new link, and this portal sends none")

// RevokeGrace is how long a link that a revocation ended still asks for it
// again without effect: a second click, or two tabs, find the work done
// instead of a 404, and cause no second rotation or mail.
const RevokeGrace = 10 * time.Minute

// Revoked is the outcome of RevokeAccess.
type Revoked struct {
	Number int
	Email  string // where the new link was sent
	Lang   string // the ticket's language
	// Already: the token was ended by a revocation less than RevokeGrace
	// ago; nothing was done this time.
	Already bool
}

// RevokeAccess ends every way into ticket number that was handed out: each
// link token still valid, and the ticket's own token, which is replaced by
// a new one; Config.NotifyNewLinkTx mails the new private link to the
// ticket's address inside the same transaction (the token is known only
// there). Whoever holds a valid token or link may ask (a forwarded mail's
// reader included): the new link reaches only the ticket's address, and the
// caller gets none. The token is checked inside the transaction, so of two
// concurrent revocations the second finds its token ended (Already, if the
// first ended it): one new token, one mail. A token that is wrong, or ended
// longer than RevokeGrace ago, gives ErrNotFound.
func (s *Store) RevokeAccess(ctx context.Context, number int, token string) (Revoked, error) {
	if s.notifyNewLinkTx == nil {
		return Revoked{}, fmt.Errorf("tickets: revoke links of #%d: %w", number, ErrNoLinkMail)
	}
	out := Revoked{Number: number}
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		wctx := context.WithoutCancel(ctx)
		var (
			id     int64
			stored []byte
		)
		err := tx.QueryRowContext(wctx, `SELECT id, token_hash FROM tickets WHERE number = ?`, number).Scan(&id, &stored)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		now := s.now().UTC()
		hash := sha256.Sum256([]byte(token))
		ok := token != "" && subtle.ConstantTimeCompare(stored, hash[:]) == 1
		if !ok && token != "" {
			var revoked sql.NullString
			err := tx.QueryRowContext(wctx, `SELECT revoked_at FROM ticket_links WHERE hash = ? AND ticket_id = ?
				AND (revoked_at IS NOT NULL OR expires_at > ?)`, hash[:], id, formatTime(now)).Scan(&revoked)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			case !revoked.Valid:
				ok = true
			default:
				at, err := parseTime(revoked.String, nil)
				if err != nil {
					return err
				}
				out.Already = now.Sub(at) < RevokeGrace
			}
		}
		if !ok && !out.Already {
			return ErrNotFound
		}
		if out.Already {
			return tx.QueryRowContext(wctx, `SELECT email, lang FROM tickets WHERE id = ?`, id).Scan(&out.Email, &out.Lang)
		}
		at := formatTime(now)
		if _, err := tx.ExecContext(wctx, `UPDATE ticket_links SET revoked_at = ?
			WHERE ticket_id = ? AND revoked_at IS NULL AND expires_at > ?`, at, id, at); err != nil {
			return err
		}
		// The old token is kept as an ended link, so that asking again
		// with it within RevokeGrace finds the work done.
		if _, err := tx.ExecContext(wctx, `INSERT OR IGNORE INTO ticket_links (hash, ticket_id, purpose, created_at, expires_at, revoked_at)
			VALUES (?, ?, 'ticket', ?, ?, ?)`, stored, id, at, at, at); err != nil {
			return err
		}
		fresh, freshHash, err := newToken()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(wctx, `UPDATE tickets SET token_hash = ? WHERE id = ?`, freshHash[:], id); err != nil {
			return err
		}
		tk, err := s.GetTx(wctx, tx, number)
		if err != nil {
			return err
		}
		out.Email, out.Lang = tk.Email, tk.Lang
		return s.notifyNewLinkTx(wctx, tx, tk, fresh)
	})
	if err != nil {
		return Revoked{}, fmt.Errorf("tickets: revoke links of #%d: %w", number, err)
	}
	s.log.Info("ticket links revoked", "number", number, "already", out.Already)
	return out, nil
}
