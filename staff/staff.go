// Package staff owns staff accounts: their roles and passwords, browser
// sessions, personal access tokens for scripts, login rate limiting and the
// staff audit log. It knows nothing of HTTP; the web layer puts Session.Token
// in a cookie and maps the errors here to status codes.
package staff

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Role is what a staff member may do.
type Role string

// The roles.
const (
	RoleAgent    Role = "agent"    // works tickets
	RoleOperator Role = "operator" // an agent who also sees metrics and changes settings
	RoleWriter   Role = "writer"   // publishes articles
)

// Allows reports whether a user with role r may do what needs role need:
// an operator may do what an agent may; a writer's work is separate.
func (r Role) Allows(need Role) bool {
	switch r {
	case RoleOperator:
		return need == RoleOperator || need == RoleAgent
	case RoleAgent:
		return need == RoleAgent
	case RoleWriter:
		return need == RoleWriter
	}
	return false
}

func (r Role) valid() bool {
	return r == RoleAgent || r == RoleOperator || r == RoleWriter
}

// ErrNotFound is returned for a user that does not exist.
var ErrNotFound = errors.New("not found")

// ErrBadCredentials is returned by Login for an unknown email, a wrong
// password and a disabled account alike, so a caller cannot tell which.
var ErrBadCredentials = errors.New("wrong email or password")

// ErrUnauthenticated is returned for a session or access token that is
// unknown, expired, revoked or belongs to a disabled account.
var ErrUnauthenticated = errors.New("not signed in")

// ErrRateLimited is wrapped by *RateLimitError.
var ErrRateLimited = errors.New("too many failed logins")

// RateLimitError is returned by Login (and SetPassword) after too many
// failures; errors.Is(err, ErrRateLimited) holds. RetryAfter is when the
// oldest counted failure leaves the window, for a Retry-After header.
type RateLimitError struct {
	RetryAfter time.Duration
	// Busy: not failures but too many password checks at once (each
	// costs its memory); the attempt was not counted.
	Busy bool
}

func (e *RateLimitError) Error() string {
	if e.Busy {
		return fmt.Sprintf("too many sign-ins at once; try again in %s", e.RetryAfter.Round(time.Second))
	}
	return fmt.Sprintf("%v; try again in %s", ErrRateLimited, e.RetryAfter.Round(time.Second))
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// ValidationError lists every field at fault, keyed by field name ("email",
// "name", "role", "password", "current_password", "action"), each with a
// fields code and its parameters. Nothing is stored when it is returned.
type ValidationError = fields.Error

// invalid is a ValidationError on one field; params as for fields.New.
func invalid(field, code string, params ...any) error {
	return fields.Invalid(field, code, params...)
}

// Login limits: failures counted in a sliding window, per account (the email
// as typed) and client address, per address, and per account from
// everywhere. See Login for how they combine.
const (
	failureWindow      = 15 * time.Minute
	maxAccountFailures = 5  // per account and address (or recognised browser); also "under attack"
	maxIPFailures      = 20 // per address, all accounts
	// accountCeiling bounds guessing spread over many addresses: past it,
	// only recognised browsers get a password checked for the account.
	accountCeiling = 25
	// deviceTTL is how long a browser stays recognised after a successful
	// sign-in.
	deviceTTL = 30 * 24 * time.Hour
)

// touchEvery bounds how often a session's last_seen_at or a token's
// last_used_at is written: once a minute is precise enough and spares a write
// per request.
const touchEvery = time.Minute

// Config configures a Store.
type Config struct {
	DB          *sqlitedb.DB     // Open migrates it
	Now         func() time.Time // nil = time.Now
	Logger      *slog.Logger     // nil = discard
	SessionIdle time.Duration    // a session unused this long ends; 0 = 12h
	SessionMax  time.Duration    // a session ends this long after login however used; 0 = 7 days
	// Argon2id cost of new password hashes. Zero means the OWASP minimum
	// (19 MiB, 2 passes), which production should keep or raise; tests
	// lower them to run fast. Existing hashes are verified with the
	// parameters stored in them, and rehashed at the next login when these
	// differ.
	HashMemoryKiB uint32
	HashTime      uint32
}

// Store keeps staff accounts, sessions, tokens and the audit log.
type Store struct {
	db        *sqlitedb.DB
	now       func() time.Time
	log       *slog.Logger
	idle, max time.Duration
	params    hashParams
	dummyHash string        // verified for unknown emails, so they cost what a wrong password does
	hashing   chan struct{} // a slot per password hash running in a login (see hashSlot)

	endedMu sync.Mutex
	ended   chan struct{} // closed and replaced when sessions end (see SessionsEnded)
}

// Open migrates the database and returns a Store.
func Open(cfg Config) (*Store, error) {
	if cfg.DB == nil {
		return nil, fmt.Errorf("staff: open: DB is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 12 * time.Hour
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = 7 * 24 * time.Hour
	}
	p := defaultParams
	if cfg.HashMemoryKiB != 0 {
		p.memory = cfg.HashMemoryKiB
	}
	if cfg.HashTime != 0 {
		p.time = cfg.HashTime
	}
	if p.memory < 8*uint32(p.threads) {
		return nil, fmt.Errorf("staff: open: HashMemoryKiB must be at least %d", 8*uint32(p.threads))
	}
	if err := cfg.DB.Migrate("staff", migrations, "migrations"); err != nil {
		return nil, fmt.Errorf("staff: open: %w", err)
	}
	dummy, err := newPassword()
	if err != nil {
		return nil, fmt.Errorf("staff: open: %w", err)
	}
	dummyHash, err := hashPassword(dummy, p)
	if err != nil {
		return nil, fmt.Errorf("staff: open: %w", err)
	}
	return &Store{
		db: cfg.DB, now: cfg.Now, log: cfg.Logger, idle: cfg.SessionIdle, max: cfg.SessionMax,
		params: p, dummyHash: dummyHash, hashing: make(chan struct{}, maxHashing), ended: make(chan struct{}),
	}, nil
}

// SessionsEnded returns a channel that is closed the next time sessions
// end through this Store (a sign-out, a password change ending the other
// sessions, a disabled account), so that whoever holds a session's live
// connection can check it again at once. Take the channel before checking
// the session, and a new one each time it fires, so that no ending is
// missed in between. Sessions ended by another process (portal user
// disable) are not seen: check the session now and then too.
func (s *Store) SessionsEnded() <-chan struct{} {
	s.endedMu.Lock()
	defer s.endedMu.Unlock()
	return s.ended
}

// sessionsEnded wakes the waiters of SessionsEnded; call it after the
// commit.
func (s *Store) sessionsEnded() {
	s.endedMu.Lock()
	defer s.endedMu.Unlock()
	close(s.ended)
	s.ended = make(chan struct{})
}

// write runs fn in a write transaction (the database's one writer).
func (s *Store) write(ctx context.Context, fn func(*sqlitedb.Tx) error) error {
	return s.db.Write(ctx, fn)
}

func formatTime(t time.Time) string { return sqlitedb.FormatTime(t) }

func parseTime(s string) (time.Time, error) { return sqlitedb.ParseTime(s) }

func parseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}
