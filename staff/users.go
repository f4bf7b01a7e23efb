package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

// User is a staff account.
type User struct {
	ID                 int64
	Email              string // lower-case
	Name               string
	Role               Role
	Disabled           bool
	MustChangePassword bool // true until the one-time password is replaced
	CreatedAt          time.Time
	LastLoginAt        time.Time // zero before the first login
}

// Field limits, in characters.
const (
	maxEmail = 254 // RFC 5321 path limit
	maxName  = 200
)

// normEmail is the form emails are stored and looked up in.
func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// AddUser creates an account with a random one-time password, which it
// returns; only its hash is stored, and the user must change it at first
// login (User.MustChangePassword). actor names who added it, for the audit
// log. A *ValidationError names each field at fault, including an email that
// is already used (whatever its case).
func (s *Store) AddUser(ctx context.Context, email, name string, role Role, actor string) (User, string, error) {
	email, name = normEmail(email), strings.TrimSpace(name)
	bad := &ValidationError{}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || a.Name != "" {
		bad.Add("email", fields.StaffEmail)
	} else if len(email) > maxEmail {
		bad.Add("email", fields.StaffTooLong, "max", maxEmail)
	}
	if name == "" {
		bad.Add("name", fields.StaffRequired)
	} else if utf8.RuneCountInString(name) > maxName {
		bad.Add("name", fields.StaffTooLong, "max", maxName)
	}
	if !role.valid() {
		bad.Add("role", fields.Role)
	}
	if len(bad.Fields) > 0 {
		return User{}, "", bad
	}
	password, err := newPassword()
	if err != nil {
		return User{}, "", fmt.Errorf("staff: add user: %w", err)
	}
	hash, err := hashPassword(password, s.params)
	if err != nil {
		return User{}, "", fmt.Errorf("staff: add user: %w", err)
	}
	now := s.now().UTC()
	u := User{Email: email, Name: name, Role: role, MustChangePassword: true, CreatedAt: now}
	err = s.write(ctx, func(tx *sqlitedb.Tx) error {
		// The transaction is immediate (sqlitedb.Open), so no other writer
		// can add the same email between this check and the insert.
		var used int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM staff_users WHERE email = ?`, email).Scan(&used); err != nil {
			return err
		}
		if used > 0 {
			return invalid("email", fields.EmailTaken)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO staff_users (email, name, role, password_hash, must_change_password, created_at)
			VALUES (?, ?, ?, ?, 1, ?)`, email, name, role, hash, formatTime(now))
		if err != nil {
			return err
		}
		if u.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return audit(ctx, tx, now, 0, actor, actionUserAdded, email, map[string]string{"role": string(role), "name": name})
	})
	if err != nil {
		return User{}, "", wrap("add user", err)
	}
	s.log.Info("staff user added", "email", email, "role", role, "actor", actor)
	return u, password, nil
}

// wrap prefixes err with the operation, leaving a *ValidationError as it is
// so that its message stays the field list.
func wrap(op string, err error) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return err
	}
	return fmt.Errorf("staff: %s: %w", op, err)
}

const userColumns = `u.id, u.email, u.name, u.role, u.must_change_password, u.disabled_at, u.created_at, u.last_login_at`

type scanner interface{ Scan(dst ...any) error }

// scanUser reads userColumns, then extra.
func scanUser(row scanner, extra ...any) (User, error) {
	var (
		u                       User
		disabled, created, last sql.NullString
	)
	if err := row.Scan(append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &u.MustChangePassword, &disabled, &created, &last}, extra...)...); err != nil {
		return User{}, err
	}
	u.Disabled = disabled.Valid
	var err error
	if u.CreatedAt, err = parseNullTime(created); err != nil {
		return User{}, err
	}
	if u.LastLoginAt, err = parseNullTime(last); err != nil {
		return User{}, err
	}
	return u, nil
}

// Users returns every account, disabled ones too, ordered by email.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM staff_users u ORDER BY u.email`)
	if err != nil {
		return nil, fmt.Errorf("staff: users: %w", err)
	}
	defer rows.Close()
	var users []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("staff: users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("staff: users: %w", err)
	}
	return users, nil
}

// UserByEmail returns the account with that email (in any case), disabled or
// not, or ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM staff_users u WHERE u.email = ?`, normEmail(email)))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("staff: user %s: %w", normEmail(email), err)
	}
	return u, nil
}

// UserByID returns the account with that id, disabled or not, or
// ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM staff_users u WHERE u.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("staff: user %d: %w", id, err)
	}
	return u, nil
}

// DisableUser disables an account: its sessions end and its access tokens
// are revoked at once, in the same transaction. Disabling an account that is
// already disabled is a *ValidationError (so that a mistyped command says
// so); an unknown email is ErrNotFound.
func (s *Store) DisableUser(ctx context.Context, email, actor string) error {
	email = normEmail(email)
	now := s.now().UTC()
	var sessions, tokens int64
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		var (
			id       int64
			disabled sql.NullString
		)
		err := tx.QueryRowContext(ctx, `SELECT id, disabled_at FROM staff_users WHERE email = ?`, email).Scan(&id, &disabled)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if disabled.Valid {
			return invalid("email", fields.AlreadyDisabled)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff_users SET disabled_at = ? WHERE id = ?`, formatTime(now), id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE user_id = ?`, id)
		if err != nil {
			return err
		}
		sessions, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_devices WHERE user_id = ?`, id); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, `UPDATE staff_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, formatTime(now), id)
		if err != nil {
			return err
		}
		tokens, _ = res.RowsAffected()
		return audit(ctx, tx, now, 0, actor, actionUserDisabled, email, map[string]string{
			"sessions_ended": fmt.Sprint(sessions), "tokens_revoked": fmt.Sprint(tokens)})
	})
	if err != nil {
		return wrap("disable "+email, err)
	}
	s.sessionsEnded()
	s.log.Info("staff user disabled", "email", email, "actor", actor, "sessions_ended", sessions, "tokens_revoked", tokens)
	return nil
}
