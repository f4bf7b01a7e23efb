package tickets

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

// "Find my tickets" (issue 14): a customer who lost a ticket's link gives
// an address; if it has tickets, a mail with a single-use link valid
// FindTTL goes to it, and the link lists the address's tickets, each with
// a fresh private link. The answer to the request is the same whether or
// not the address has tickets, and an address gets at most FindPerHour
// such mails an hour (counted in SQLite, so a restart does not reset it).

// FindTTL is how long a find link works (once).
const FindTTL = 30 * time.Minute

// FindPerHour is how many find mails one address gets in an hour.
const FindPerHour = 3

// FindResult says what a find request did. The customer is told the same
// whatever it is; it is for logs and tests.
type FindResult string

// What a find request did.
const (
	FindSent      FindResult = "sent"       // a mail with a link was written to the outbox
	FindNoTickets FindResult = "no tickets" // nothing to send
	FindLimited   FindResult = "limited"    // the address had FindPerHour mails this hour
)

// RequestFind handles a "find my tickets" request for email from a page in
// lang: within the limit and with tickets, it mints a find token and hands
// it to Config.NotifyFindTx in the same transaction (the mail commits with
// it). A malformed address is a *ValidationError on "email".
func (s *Store) RequestFind(ctx context.Context, email, lang string) (FindResult, error) {
	email = strings.TrimSpace(email)
	if p := checkText(email, true, maxEmail, false); p.Code != "" {
		bad := &ValidationError{}
		bad.Set("email", p)
		return "", bad
	}
	if !isEmail(email) {
		return "", fields.Invalid("email", fields.Email)
	}
	addr := normEmail(email)
	var result FindResult
	wctx := context.WithoutCancel(ctx)
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		now := s.now().UTC()
		var sent, tickets int
		if err := tx.QueryRowContext(wctx, `SELECT count(*) FROM address_tokens WHERE email = ? AND purpose = 'find' AND created_at > ?`,
			addr, formatTime(now.Add(-time.Hour))).Scan(&sent); err != nil {
			return err
		}
		if sent >= FindPerHour {
			result = FindLimited
			return nil
		}
		if err := tx.QueryRowContext(wctx, `SELECT count(*) FROM tickets WHERE lower(email) = ?`, addr).Scan(&tickets); err != nil {
			return err
		}
		if tickets == 0 {
			result = FindNoTickets
			return nil
		}
		token, err := mintAddressToken(wctx, tx, "find", addr, now, FindTTL)
		if err != nil {
			return err
		}
		result = FindSent
		return s.notifyFindTx(wctx, tx, addr, lang, token)
	})
	if err != nil {
		return "", fmt.Errorf("tickets: find my tickets: %w", err)
	}
	s.log.Info("find my tickets", "result", string(result))
	return result, nil
}

// FindValid says whether a find token can still be used, without using it:
// the page a find link opens shows a button first (mail scanners open
// links; the single use must not be theirs).
// It returns the address the link was sent to.
func (s *Store) FindValid(ctx context.Context, token string) (string, error) {
	email, used, err := addressToken(ctx, s.db, "find", token, s.now().UTC())
	if err == nil && used {
		err = ErrTokenInvalid
	}
	if err != nil {
		return "", fmt.Errorf("tickets: find link: %w", err)
	}
	return email, nil
}

// Found is one ticket a find link lists, with a private link token minted
// for it (MintLinkTx, purpose "find", LinkTTL).
type Found struct {
	Number    int
	Subject   string
	Status    Status
	UpdatedAt time.Time
	Token     string
}

// UseFind uses a find token, once: it lists the address's tickets, newest
// first, each with a fresh link token, and confirms the address (the link
// proves the mailbox: ViaFindLink), all in one transaction. A token
// unknown, expired or used is ErrTokenInvalid.
func (s *Store) UseFind(ctx context.Context, token string) (string, []Found, Confirmation, error) {
	var (
		email string
		found []Found
		c     Confirmation
		evs   []Event
	)
	wctx := context.WithoutCancel(ctx)
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		now := s.now().UTC()
		var (
			used bool
			err  error
		)
		email, used, err = addressToken(wctx, tx, "find", token, now)
		if err == nil && used {
			err = ErrTokenInvalid
		}
		if err != nil {
			return err
		}
		hash := sha256.Sum256([]byte(token))
		if _, err := tx.ExecContext(wctx, `UPDATE address_tokens SET used_at = ? WHERE hash = ?`, formatTime(now), hash[:]); err != nil {
			return err
		}
		if c, evs, err = s.confirmTx(wctx, tx, email, Confirmer{Via: ViaFindLink}, now); err != nil {
			return err
		}
		rows, err := tx.QueryContext(wctx, `SELECT number, subject, status, updated_at FROM tickets
			WHERE lower(email) = ? ORDER BY number DESC`, email)
		if err != nil {
			return err
		}
		found = nil
		for rows.Next() {
			var (
				f       Found
				updated string
			)
			if err := rows.Scan(&f.Number, &f.Subject, &f.Status, &updated); err != nil {
				rows.Close()
				return err
			}
			if f.UpdatedAt, err = parseTime(updated, nil); err != nil {
				rows.Close()
				return err
			}
			found = append(found, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range found {
			if found[i].Token, err = s.MintLinkTx(wctx, tx, found[i].Number, "find"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", nil, Confirmation{}, fmt.Errorf("tickets: find link: %w", err)
	}
	s.announce(c, evs)
	return email, found, c, nil
}
