package staff

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

// TokenPrefix starts every personal access token, so that a leaked one is
// recognisable (by secret scanners, say) and a session cookie is never taken
// for one.
const TokenPrefix = "ob_pat_"

const maxTokenName = 100

// CreateToken creates a personal access token for the account with that
// email and returns it; only its SHA-256 is stored, so it cannot be shown
// again. name (optional) says what it is for. The account must exist
// (ErrNotFound) and be enabled (*ValidationError on "email").
func (s *Store) CreateToken(ctx context.Context, email, name, actor string) (string, error) {
	email, name = normEmail(email), strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxTokenName {
		return "", invalid("name", fields.StaffTooLong, "max", maxTokenName)
	}
	token, hash, err := randomToken(TokenPrefix)
	if err != nil {
		return "", fmt.Errorf("staff: create token: %w", err)
	}
	now := s.now().UTC()
	err = s.write(ctx, func(tx *sqlitedb.Tx) error {
		var (
			userID   int64
			disabled sql.NullString
		)
		err := tx.QueryRowContext(ctx, `SELECT id, disabled_at FROM staff_users WHERE email = ?`, email).Scan(&userID, &disabled)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if disabled.Valid {
			return invalid("email", fields.AccountDisabled)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO staff_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)`,
			userID, name, hash[:], formatTime(now))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, 0, actor, actionTokenCreated, email, map[string]string{"token_id": fmt.Sprint(id), "name": name})
	})
	if err != nil {
		return "", wrap("create token for "+email, err)
	}
	s.log.Info("staff token created", "email", email, "name", name, "actor", actor)
	return token, nil
}

// Authenticate returns the user a personal access token (from an
// "Authorization: Bearer" header) belongs to. Unknown and revoked tokens,
// and those of a disabled account, give ErrUnauthenticated. last_used_at is
// written at most once a minute.
func (s *Store) Authenticate(ctx context.Context, token string) (User, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return User{}, fmt.Errorf("staff: authenticate: %w", ErrUnauthenticated)
	}
	hash := sha256.Sum256([]byte(token))
	var (
		id       int64
		lastUsed sql.NullString
	)
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+`, t.id, t.last_used_at
		FROM staff_tokens t JOIN staff_users u ON u.id = t.user_id
		WHERE t.token_hash = ? AND t.revoked_at IS NULL`, hash[:]), &id, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("staff: authenticate: %w", ErrUnauthenticated)
	}
	if err != nil {
		return User{}, fmt.Errorf("staff: authenticate: %w", err)
	}
	if u.Disabled {
		return User{}, fmt.Errorf("staff: authenticate: %w", ErrUnauthenticated)
	}
	last, err := parseNullTime(lastUsed)
	if err != nil {
		return User{}, fmt.Errorf("staff: authenticate: %w", err)
	}
	now := s.now().UTC()
	if last.IsZero() || now.Sub(last) >= touchEvery {
		err := s.write(ctx, func(tx *sqlitedb.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE staff_tokens SET last_used_at = ? WHERE id = ?`, formatTime(now), id)
			return err
		})
		if err != nil {
			return User{}, fmt.Errorf("staff: authenticate: %w", err)
		}
	}
	return u, nil
}

// Token is a personal access token as its owner sees it: never the secret,
// which is not stored.
type Token struct {
	ID         int64
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero if never used
}

// ListTokens returns the tokens of the account with that email that are
// still in force (not revoked), newest first. An unknown email has none.
func (s *Store) ListTokens(ctx context.Context, email string) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.id, t.name, t.created_at, t.last_used_at
		FROM staff_tokens t JOIN staff_users u ON u.id = t.user_id
		WHERE u.email = ? AND t.revoked_at IS NULL ORDER BY t.id DESC`, normEmail(email))
	if err != nil {
		return nil, fmt.Errorf("staff: list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var (
			tk       Token
			created  string
			lastUsed sql.NullString
		)
		if err := rows.Scan(&tk.ID, &tk.Name, &created, &lastUsed); err != nil {
			return nil, fmt.Errorf("staff: list tokens: %w", err)
		}
		if tk.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("staff: list tokens: %w", err)
		}
		if tk.LastUsedAt, err = parseNullTime(lastUsed); err != nil {
			return nil, fmt.Errorf("staff: list tokens: %w", err)
		}
		out = append(out, tk)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("staff: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes token id of the account with that email, at once:
// Authenticate refuses it from then on. A token that is not that account's,
// or is revoked already, is ErrNotFound, so that nobody learns of another's
// tokens by trying ids.
func (s *Store) RevokeToken(ctx context.Context, email string, id int64, actor string) error {
	email = normEmail(email)
	now := s.now().UTC()
	var name string
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT t.name FROM staff_tokens t JOIN staff_users u ON u.id = t.user_id
			WHERE t.id = ? AND u.email = ? AND t.revoked_at IS NULL`, id, email).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff_tokens SET revoked_at = ? WHERE id = ?`, formatTime(now), id); err != nil {
			return err
		}
		return audit(ctx, tx, now, 0, actor, actionTokenRevoked, email, map[string]string{"token_id": fmt.Sprint(id), "name": name})
	})
	if err != nil {
		return wrap(fmt.Sprintf("revoke token %d of %s", id, email), err)
	}
	s.log.Info("staff token revoked", "email", email, "token_id", id, "name", name, "actor", actor)
	return nil
}
