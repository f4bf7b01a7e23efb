package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

// Session is a signed-in browser.
type Session struct {
	Token     string    // the cookie's value: 32 random bytes, base64url; only its SHA-256 is stored
	User      User      // check User.MustChangePassword before letting it do anything else
	CSRF      string    // CSRFToken(Token), for forms
	ExpiresAt time.Time // when it ends unless used again; never past login + SessionMax
	// Device, set by Login only, is the browser's new recognition cookie
	// (see Attempt.Device), valid until DeviceExpiresAt; only its SHA-256
	// is stored.
	Device          string
	DeviceExpiresAt time.Time
}

// Limits: a password's length, and how much of a client's address and user
// agent a session keeps.
const (
	minPassword  = 12   // characters
	maxPassword  = 1024 // bytes: hashing cost grows with length
	maxIP        = 64   // bytes
	maxUserAgent = 512  // bytes
)

// At most maxHashing logins hash a password at once (4 × 19 MiB with the
// default cost); one that waits longer than hashWait for its turn gets a
// 429, so that no burst of sign-ins can exhaust the server's memory.
const (
	maxHashing = 4
	hashWait   = 3 * time.Second
)

// randomToken returns prefix and 32 random bytes in base64url, and the
// SHA-256 of the whole, which is what is stored.
func randomToken(prefix string) (string, [32]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", [32]byte{}, err
	}
	token := prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, sha256.Sum256([]byte(token)), nil
}

// CSRFToken returns the anti-forgery token for a session: a hash of the
// session token, so it needs no storage. A cross-site page can neither read
// the cookie nor this token, so it cannot forge a form that carries it.
func CSRFToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("csrf:" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CheckCSRF reports, in constant time, whether given is the CSRF token of
// the session.
func CheckCSRF(sessionToken, given string) bool {
	if sessionToken == "" || given == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(CSRFToken(sessionToken)), []byte(given)) == 1
}

// Attempt is one sign-in: what the person typed, and where it came from.
type Attempt struct {
	Email, Password string
	IP              string // the client's address; "" when unknown (no per-address limits)
	UserAgent       string
	// Device is the cookie a successful sign-in left in this browser
	// (Session.Device); "" for none. A valid one makes the browser
	// recognised for its account.
	Device string
}

// Login checks an email and password and starts a session. An unknown
// email, a wrong password and a disabled account all give ErrBadCredentials
// and cost the same (an unknown email is checked against a dummy hash).
//
// Failures count for 15 minutes, and an attempt past a limit gets a
// *RateLimitError (ErrRateLimited) without its password being checked,
// even a right one. The limits lock out the guesser, not the account's
// owner (targeted lockout):
//   - 5 failures for an account from one address lock that address out of
//     the account; 20 failures from one address, for any accounts, lock
//     the address out of all;
//   - once an account has 5 failures from anywhere, an address that has
//     failed for it at all is refused, while one that has not still gets
//     its password checked;
//   - at 25 failures for an account, only recognised browsers (a Device
//     cookie from a successful sign-in to the account in the last 30 days)
//     get a password checked; such a browser is limited by its own 5
//     failures only, wherever it is.
//
// Without an address (ip ""), the account's 5 failures from anywhere lock
// it. A success clears the failures of its address and browser, and gives
// the browser a fresh Device. Logins and failures go to the audit log.
func (s *Store) Login(ctx context.Context, a Attempt) (Session, error) {
	// Bounded before any work: no address is longer, and no password can
	// be (SetPassword refuses them), so neither reaches the log, the tables
	// or argon2 whole.
	email, ip, userAgent := clip(normEmail(a.Email), maxEmail), clip(a.IP, maxIP), clip(a.UserAgent, maxUserAgent)
	password := a.Password
	var device []byte
	if a.Device != "" && len(a.Device) <= maxIP {
		h := sha256.Sum256([]byte(a.Device))
		device = h[:]
	}
	now := s.now().UTC()
	// The attempt counts as a failure from the start, in the transaction
	// that checks the limits: concurrent attempts cannot all pass the check
	// (a success removes it again).
	reserved, err := s.reserveAttempt(ctx, email, ip, device, false, now)
	if err != nil {
		return Session{}, fmt.Errorf("staff: login: %w", err)
	}
	// An attempt that ends without a verdict on the password (a busy
	// server, a cancelled request, a database error) is no failure: were it
	// counted, a busy moment during an attack would lock the owner out.
	undo := func(err error) (Session, error) {
		s.unreserve(ctx, reserved)
		return Session{}, fmt.Errorf("staff: login: %w", err)
	}
	u, hash, err := s.credentials(ctx, `u.email = ?`, email)
	known := err == nil
	if errors.Is(err, ErrNotFound) {
		hash = s.dummyHash
	} else if err != nil {
		return undo(err)
	}
	var ok bool
	var params hashParams
	if len(password) <= maxPassword {
		if err := s.hashSlot(ctx); err != nil {
			return undo(err)
		}
		ok, params, err = verifyPassword(hash, password)
		<-s.hashing
		if err != nil {
			return undo(fmt.Errorf("%s: %w", email, err))
		}
	}
	var reason string
	switch {
	case len(password) > maxPassword:
		reason = "password too long"
	case !known:
		reason = "unknown email"
	case !ok:
		reason = "wrong password"
	case u.Disabled:
		reason = "account disabled"
	}
	if reason != "" {
		if err := s.recordFailure(ctx, email, ip, reason, now); err != nil {
			return Session{}, fmt.Errorf("staff: login: %w", err)
		}
		s.log.Info("staff login failed", "email", email, "ip", ip, "reason", reason)
		return Session{}, fmt.Errorf("staff: login: %w", ErrBadCredentials)
	}

	// A hash made with other parameters than today's is replaced while the
	// password is at hand, so raising the cost reaches every account.
	var rehash string
	if params != s.params {
		if err := s.hashSlot(ctx); err != nil {
			return undo(err)
		}
		rehash, err = hashPassword(password, s.params)
		<-s.hashing
		if err != nil {
			return undo(err)
		}
	}
	token, tokenHash, err := randomToken("")
	if err != nil {
		return Session{}, fmt.Errorf("staff: login: %w", err)
	}
	deviceToken, deviceHash, err := randomToken("")
	if err != nil {
		return Session{}, fmt.Errorf("staff: login: %w", err)
	}
	expires := s.expiry(now, now)
	err = s.write(ctx, func(tx *sqlitedb.Tx) error {
		// This address's and browser's failures end; others' still count
		// (someone else may be guessing).
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_login_failures WHERE email = ? AND (ip = ? OR device = ?)`,
			email, ip, device); err != nil {
			return err
		}
		// The browser's old cookie is replaced by a fresh one.
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_devices WHERE token_hash = ? OR expires_at <= ?`,
			device, formatTime(now)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff_devices (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			deviceHash[:], u.ID, formatTime(now), formatTime(now.Add(deviceTTL))); err != nil {
			return err
		}
		// Expired sessions are swept here rather than by a timer.
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE expires_at <= ?`, formatTime(now)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff_sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, tokenHash[:], u.ID, formatTime(now), formatTime(now), formatTime(expires), ip, userAgent); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff_users SET last_login_at = ? WHERE id = ?`, formatTime(now), u.ID); err != nil {
			return err
		}
		if rehash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE staff_users SET password_hash = ? WHERE id = ?`, rehash, u.ID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, now, u.ID, u.Email, actionLogin, u.Email, map[string]string{"ip": ip})
	})
	if err != nil {
		return Session{}, fmt.Errorf("staff: login: %w", err)
	}
	u.LastLoginAt = now
	s.log.Info("staff login", "email", email, "ip", ip)
	return Session{Token: token, User: u, CSRF: CSRFToken(token), ExpiresAt: expires,
		Device: deviceToken, DeviceExpiresAt: now.Add(deviceTTL)}, nil
}

// expiry is when a session created at created and last used at seen ends.
func (s *Store) expiry(created, seen time.Time) time.Time {
	idle, absolute := seen.Add(s.idle), created.Add(s.max)
	if idle.Before(absolute) {
		return idle
	}
	return absolute
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// credentials returns a user and its password hash.
func (s *Store) credentials(ctx context.Context, where string, arg any) (User, string, error) {
	var hash string
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+`, u.password_hash FROM staff_users u WHERE `+where, arg), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, "", ErrNotFound
	}
	return u, hash, err
}

// reserveAttempt counts a login attempt for email from ip (and the browser
// whose Device hashes to device, nil for none) as a failure, unless Login's
// limits refuse it; then it returns a *RateLimitError saying how long until
// the attempt would be allowed. It returns the failure's row, for
// unreserve. signedIn says device stands for a signed-in session (a
// password change): it is limited by its own failures only, as a
// recognised browser is. Check and count are one transaction, so a
// burst of concurrent attempts gets at most the limit through. It also
// prunes failures that no longer count, so the table stays the size of one
// window.
func (s *Store) reserveAttempt(ctx context.Context, email, ip string, device []byte, signedIn bool, now time.Time) (int64, error) {
	since := formatTime(now.Add(-failureWindow))
	var row int64
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_login_failures WHERE at <= ?`, since); err != nil {
			return err
		}
		// over reports whether the failures matching where reach limit,
		// and how long until the oldest of the limit newest leaves the window.
		over := func(limit int, where string, args ...any) (bool, time.Duration, error) {
			var at string
			err := tx.QueryRowContext(ctx, `SELECT at FROM staff_login_failures WHERE `+where+` AND at > ?
				ORDER BY at DESC LIMIT 1 OFFSET ?`, append(args, since, limit-1)...).Scan(&at)
			if errors.Is(err, sql.ErrNoRows) {
				return false, 0, nil
			}
			if err != nil {
				return false, 0, err
			}
			t, err := parseTime(at)
			if err != nil {
				return false, 0, err
			}
			return true, max(t.Add(failureWindow).Sub(now), time.Second), nil
		}
		var limited []time.Duration // each limit reached: how long until it no longer holds
		check := func(limit int, where string, args ...any) error {
			hit, wait, err := over(limit, where, args...)
			if hit {
				limited = append(limited, wait)
			}
			return err
		}
		recognised := signedIn
		if device != nil && !signedIn {
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM staff_devices d JOIN staff_users u ON u.id = d.user_id
				WHERE d.token_hash = ? AND u.email = ? AND d.expires_at > ?`, device, email, formatTime(now)).Scan(new(int))
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			recognised = err == nil
		}
		switch {
		case recognised:
			if err := check(maxAccountFailures, `email = ? AND device = ?`, email, device); err != nil {
				return err
			}
		case ip == "":
			if err := check(maxAccountFailures, `email = ?`, email); err != nil {
				return err
			}
		default:
			device = nil // an unrecognised cookie proves nothing
			if err := check(maxIPFailures, `ip = ?`, ip); err != nil {
				return err
			}
			if err := check(maxAccountFailures, `email = ? AND ip = ?`, email, ip); err != nil {
				return err
			}
			if err := check(accountCeiling, `email = ?`, email); err != nil {
				return err
			}
			// Under attack, an address that took part is refused until
			// either its own failures or the attack's age out.
			attacked, attackWait, err := over(maxAccountFailures, `email = ?`, email)
			if err != nil {
				return err
			}
			failed, failedWait, err := over(1, `email = ? AND ip = ?`, email, ip)
			if err != nil {
				return err
			}
			if attacked && failed {
				limited = append(limited, min(attackWait, failedWait))
			}
		}
		if len(limited) > 0 {
			return &RateLimitError{RetryAfter: slices.Max(limited)}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO staff_login_failures (email, ip, at, device) VALUES (?, ?, ?, ?)`,
			email, ip, formatTime(now), device)
		if err != nil {
			return err
		}
		row, err = res.LastInsertId()
		return err
	})
	return row, err
}

// unreserve takes back a failure reserveAttempt counted, for an attempt
// that ended without a verdict. It runs even if ctx was cancelled.
func (s *Store) unreserve(ctx context.Context, row int64) {
	err := s.write(context.WithoutCancel(ctx), func(tx *sqlitedb.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM staff_login_failures WHERE rowid = ?`, row)
		return err
	})
	if err != nil {
		s.log.Error("staff: taking back a sign-in attempt", "err", err)
	}
}

// hashSlot waits for one of the few password hashes that may run at once
// (each argon2id check takes its memory cost, 19 MiB by default), and gives
// up with a *RateLimitError after a short wait. The caller frees the slot
// with <-s.hashing.
func (s *Store) hashSlot(ctx context.Context) error {
	t := time.NewTimer(hashWait)
	defer t.Stop()
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-t.C:
		return &RateLimitError{RetryAfter: time.Second, Busy: true}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// recordFailure audits a failed login (reserveAttempt counted it already).
func (s *Store) recordFailure(ctx context.Context, email, ip, reason string, now time.Time) error {
	return s.write(ctx, func(tx *sqlitedb.Tx) error {
		return audit(ctx, tx, now, 0, anonymous, actionLoginFailed, email, map[string]string{"ip": ip, "reason": reason})
	})
}

// Session returns the session whose cookie holds token, and slides its idle
// expiry. Unknown, expired and logged-out sessions, and those of a disabled
// account, give ErrUnauthenticated. last_seen_at is written at most once a
// minute, so the idle limit holds to within a minute.
func (s *Store) Session(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, fmt.Errorf("staff: session: %w", ErrUnauthenticated)
	}
	hash := sha256.Sum256([]byte(token))
	var created, seen, expires string
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+`, s.created_at, s.last_seen_at, s.expires_at
		FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id WHERE s.token_hash = ?`, hash[:]), &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("staff: session: %w", ErrUnauthenticated)
	}
	if err != nil {
		return Session{}, fmt.Errorf("staff: session: %w", err)
	}
	var times [3]time.Time
	for i, t := range []string{created, seen, expires} {
		if times[i], err = parseTime(t); err != nil {
			return Session{}, fmt.Errorf("staff: session: %w", err)
		}
	}
	createdAt, seenAt, expiresAt := times[0], times[1], times[2]
	now := s.now().UTC()
	if u.Disabled || !now.Before(expiresAt) {
		return Session{}, fmt.Errorf("staff: session: %w", ErrUnauthenticated)
	}
	if now.Sub(seenAt) >= touchEvery {
		expiresAt = s.expiry(createdAt, now)
		err := s.write(ctx, func(tx *sqlitedb.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE staff_sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?`,
				formatTime(now), formatTime(expiresAt), hash[:])
			return err
		})
		if err != nil {
			return Session{}, fmt.Errorf("staff: session: %w", err)
		}
	}
	return Session{Token: token, User: u, CSRF: CSRFToken(token), ExpiresAt: expiresAt}, nil
}

// Logout ends the session whose cookie holds token. Ending one that does not
// exist (expired, or logged out already) is not an error.
func (s *Store) Logout(ctx context.Context, token string) error {
	hash := sha256.Sum256([]byte(token))
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		var (
			id    int64
			email string
		)
		err := tx.QueryRowContext(ctx, `SELECT u.id, u.email FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id
			WHERE s.token_hash = ?`, hash[:]).Scan(&id, &email)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE token_hash = ?`, hash[:]); err != nil {
			return err
		}
		return audit(ctx, tx, s.now().UTC(), id, email, actionLogout, email, nil)
	})
	if err != nil {
		return fmt.Errorf("staff: logout: %w", err)
	}
	s.sessionsEnded()
	return nil
}

// SetPassword replaces a user's password after checking the current one, and
// clears MustChangePassword. Every other session of the user ends; the one
// whose token is keepSession (the browser making the change; "" for none)
// stays signed in. Access tokens are not affected.
//
// A *ValidationError names "password" (the new one: at least 12 characters,
// not the current one) or "current_password" (wrong). Wrong current
// passwords count as failed logins of the session (and of the account), so
// that a borrowed session cannot guess it faster than the login form could;
// after 5 it returns a *RateLimitError. Others' failures to sign in do not
// stop the session. A disabled account gives ErrUnauthenticated.
func (s *Store) SetPassword(ctx context.Context, userID int64, current, next, keepSession string) error {
	switch {
	case utf8.RuneCountInString(next) < minPassword:
		return invalid("password", fields.PasswordTooShort, "min", minPassword)
	case len(next) > maxPassword:
		return invalid("password", fields.PasswordTooLong, "max", maxPassword)
	case next == current:
		return invalid("password", fields.PasswordUnchanged)
	}
	u, hash, err := s.credentials(ctx, `u.id = ?`, userID)
	if err != nil {
		return fmt.Errorf("staff: set password of user %d: %w", userID, err)
	}
	if u.Disabled {
		return fmt.Errorf("staff: set password of %s: %w", u.Email, ErrUnauthenticated)
	}
	now := s.now().UTC()
	// The signed-in session is limited by its own wrong guesses only, so
	// that someone failing to sign in to the account elsewhere does not
	// keep its owner from changing the password.
	session := sha256.Sum256([]byte("password change:" + strconv.FormatInt(userID, 10) + ":" + keepSession))
	reserved, err := s.reserveAttempt(ctx, u.Email, "", session[:], true, now)
	if err != nil {
		return fmt.Errorf("staff: set password of %s: %w", u.Email, err)
	}
	if err := s.hashSlot(ctx); err != nil {
		s.unreserve(ctx, reserved)
		return fmt.Errorf("staff: set password of %s: %w", u.Email, err)
	}
	ok, _, err := verifyPassword(hash, current)
	<-s.hashing
	if err != nil {
		s.unreserve(ctx, reserved)
		return fmt.Errorf("staff: set password of %s: %w", u.Email, err)
	}
	if !ok {
		if err := s.recordFailure(ctx, u.Email, "", "wrong current password", now); err != nil {
			return fmt.Errorf("staff: set password of %s: %w", u.Email, err)
		}
		return invalid("current_password", fields.WrongPassword)
	}
	if err := s.hashSlot(ctx); err != nil {
		return fmt.Errorf("staff: set password of %s: %w", u.Email, err)
	}
	newHash, err := hashPassword(next, s.params)
	<-s.hashing
	if err != nil {
		return fmt.Errorf("staff: set password of %s: %w", u.Email, err)
	}
	keep := sha256.Sum256([]byte(keepSession))
	var ended int64
	err = s.write(ctx, func(tx *sqlitedb.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff_users SET password_hash = ?, must_change_password = 0 WHERE id = ?`, newHash, u.ID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE user_id = ? AND token_hash <> ?`, u.ID, keep[:])
		if err != nil {
			return err
		}
		ended, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_login_failures WHERE email = ?`, u.Email); err != nil {
			return err
		}
		return audit(ctx, tx, now, u.ID, u.Email, actionPassword, u.Email, map[string]string{"sessions_ended": fmt.Sprint(ended)})
	})
	if err != nil {
		return fmt.Errorf("staff: set password of %s: %w", u.Email, err)
	}
	if ended > 0 {
		s.sessionsEnded()
	}
	s.log.Info("staff password changed", "email", u.Email, "sessions_ended", ended)
	return nil
}
