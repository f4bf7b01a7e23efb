package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// LinkTTL is how long a link token minted for a mail opens its ticket.
const LinkTTL = 30 * 24 * time.Hour

// MintLinkTx mints a link token for ticket number inside the caller's write
// transaction (the mail that carries it commits with it) and returns it;
// only its SHA-256 is stored. It opens the ticket as the ticket's own token
// does (Get) for LinkTTL, unless revoked (RevokeLinks). purpose says what
// it was minted for ("reply", "status", "find", ...), for the record.
func (s *Store) MintLinkTx(ctx context.Context, tx *sqlitedb.Tx, number int, purpose string) (string, error) {
	purpose = strings.TrimSpace(purpose)
	if purpose == "" {
		return "", fmt.Errorf("tickets: mint link for #%d: a purpose is required", number)
	}
	token, hash, err := newToken()
	if err != nil {
		return "", fmt.Errorf("tickets: mint link for #%d: %w", number, err)
	}
	now := s.now().UTC()
	res, err := tx.ExecContext(ctx, `INSERT INTO ticket_links (hash, ticket_id, purpose, created_at, expires_at)
		SELECT ?, id, ?, ?, ? FROM tickets WHERE number = ?`,
		hash[:], purpose, formatTime(now), formatTime(now.Add(LinkTTL)), number)
	if err != nil {
		return "", fmt.Errorf("tickets: mint link for #%d: %w", number, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return "", fmt.Errorf("tickets: mint link for #%d: %w", number, ErrNotFound)
	}
	return token, nil
}

// MintLink is MintLinkTx in a write transaction of its own.
func (s *Store) MintLink(ctx context.Context, number int, purpose string) (string, error) {
	var token string
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		var err error
		token, err = s.MintLinkTx(context.WithoutCancel(ctx), tx, number, purpose)
		return err
	})
	return token, err
}

// RevokeLinks revokes every link token of a ticket that is still valid (the
// customer asks, from the ticket's page: a mail was forwarded too widely)
// and returns how many. The ticket's own token is not a link and stays.
func (s *Store) RevokeLinks(ctx context.Context, number int) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		now := formatTime(s.now().UTC())
		res, err := tx.ExecContext(context.WithoutCancel(ctx), `UPDATE ticket_links SET revoked_at = ?
			WHERE ticket_id = (SELECT id FROM tickets WHERE number = ?) AND revoked_at IS NULL AND expires_at > ?`,
			now, number, now)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("tickets: revoke links of #%d: %w", number, err)
	}
	return int(n), nil
}

// linkValid says whether hash is a valid link token of the ticket with id.
func (s *Store) linkValid(ctx context.Context, ticketID int64, hash [32]byte) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM ticket_links
		WHERE hash = ? AND ticket_id = ? AND revoked_at IS NULL AND expires_at > ?`,
		hash[:], ticketID, formatTime(s.now().UTC())).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
