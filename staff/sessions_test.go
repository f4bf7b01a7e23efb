package staff

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orbitask/portal/fields"
)

func TestLogin(t *testing.T) {
	e := newEnv(t)
	u, pw := e.addUser(t, "jana@example.com", RoleOperator)
	e.clock.Add(time.Hour)
	s := e.login(t, " Jana@Example.com", pw)
	if len(s.Token) != 43 || s.User.ID != u.ID || !s.User.MustChangePassword || s.CSRF != CSRFToken(s.Token) {
		t.Errorf("session = %+v", s)
	}
	if !s.User.LastLoginAt.Equal(e.clock.Now()) || !s.ExpiresAt.Equal(e.clock.Now().Add(12*time.Hour)) {
		t.Errorf("last login %v, expires %v", s.User.LastLoginAt, s.ExpiresAt)
	}
	got, err := e.Session(e.ctx, s.Token)
	if err != nil || got.User.ID != u.ID || got.Token != s.Token || got.CSRF != s.CSRF {
		t.Errorf("Session = %+v, %v", got, err)
	}
	// Only the hash is stored.
	if n := e.count(t, `SELECT count(*) FROM staff_sessions WHERE token_hash = ?`, s.Token); n != 0 {
		t.Error("session token stored in clear")
	}
	if n := e.count(t, `SELECT count(*) FROM staff_sessions WHERE ip = '192.0.2.1' AND user_agent = 'test-agent'`); n != 1 {
		t.Error("ip and user agent not stored")
	}

	for _, tc := range []struct{ name, email, password string }{
		{"wrong password", "jana@example.com", pw + "x"},
		{"unknown email", "nobody@example.com", pw},
		{"empty", "", ""},
	} {
		_, err := e.Login(e.ctx, Attempt{Email: tc.email, Password: tc.password, IP: "192.0.2.9"})
		if !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: err = %v, want ErrBadCredentials", tc.name, err)
		}
	}
	for _, bad := range []string{"", "nonsense", s.Token + "x", TokenPrefix + s.Token} {
		_, err := e.Session(e.ctx, bad)
		wantErr(t, err, ErrUnauthenticated)
	}
}

func TestLoginRateLimitPerAccount(t *testing.T) {
	e := newEnv(t)
	_, pw := e.addUser(t, "jana@example.com", RoleAgent)
	fail := func(email, ip string) error {
		_, err := e.Login(e.ctx, Attempt{Email: email, Password: "wrong password", IP: ip})
		return err
	}
	// A success clears the failures before it.
	for range 4 {
		wantErr(t, fail("jana@example.com", "192.0.2.1"), ErrBadCredentials)
	}
	e.login(t, "jana@example.com", pw)
	for range 5 {
		e.clock.Add(time.Minute)
		wantErr(t, fail("jana@example.com", "192.0.2.1"), ErrBadCredentials)
	}
	// The sixth attempt from that address is refused, even with the right
	// password, and for an unknown email the limit is the same (no account
	// enumeration).
	_, err := e.Login(e.ctx, Attempt{Email: "JANA@example.com", Password: pw, IP: "192.0.2.1"})
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want a *RateLimitError", err)
	}
	// The first counted failure was 5 minutes ago; it leaves the window in 10.
	if rl.RetryAfter != 11*time.Minute {
		t.Errorf("RetryAfter = %v, want 11m", rl.RetryAfter)
	}
	for range 5 {
		wantErr(t, fail("nobody@example.com", "192.0.2.2"), ErrBadCredentials)
	}
	wantErr(t, fail("nobody@example.com", "192.0.2.2"), ErrRateLimited)

	e.clock.Add(rl.RetryAfter - time.Second)
	_, err = e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: pw, IP: "192.0.2.1"})
	wantErr(t, err, ErrRateLimited)
	e.clock.Add(time.Second) // the oldest failure no longer counts
	e.login(t, "jana@example.com", pw)
	if n := e.count(t, `SELECT count(*) FROM staff_login_failures WHERE email = 'jana@example.com'`); n != 0 {
		t.Errorf("%d failures left after a success", n)
	}
	_, err = e.Login(e.ctx, Attempt{Email: "x@example.com", Password: "x", IP: "192.0.2.1"})
	wantErr(t, err, ErrBadCredentials) // another account from the same address is not limited
}

// Someone failing for an account does not lock its owner out: a right
// password from an address that has not been failing, or from a browser
// that signed in before, is still checked; guessing from many addresses
// stops at the ceiling for all but recognised browsers.
func TestLoginTargetedLockout(t *testing.T) {
	e := newEnv(t)
	_, pw := e.addUser(t, "jana@example.com", RoleAgent)
	owner, err := e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: pw, IP: "198.51.100.7"})
	if err != nil {
		t.Fatal(err)
	}
	if owner.Device == "" || !owner.DeviceExpiresAt.Equal(e.clock.Now().UTC().Add(deviceTTL)) {
		t.Fatalf("device %q until %v, want a token valid for 30 days", owner.Device, owner.DeviceExpiresAt)
	}
	if n := e.count(t, `SELECT count(*) FROM staff_devices WHERE token_hash = ?`, owner.Device); n != 0 {
		t.Error("device token stored in clear")
	}
	try := func(ip, password, device string) error {
		_, err := e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: password, IP: ip, Device: device})
		return err
	}
	// An attacker at one address: 5 failures lock that address out.
	for range 5 {
		wantErr(t, try("203.0.113.66", "guess", ""), ErrBadCredentials)
	}
	wantErr(t, try("203.0.113.66", pw, ""), ErrRateLimited)
	// The owner, from an address that has not been failing, signs in.
	if err := try("198.51.100.7", pw, ""); err != nil {
		t.Fatalf("owner locked out by someone else's failures: %v", err)
	}
	// Under attack, one wrong try from a fresh address locks it too.
	wantErr(t, try("198.51.100.8", "typo", ""), ErrBadCredentials)
	wantErr(t, try("198.51.100.8", pw, ""), ErrRateLimited)

	// Guessing spread over many addresses, all at once: the ceiling holds
	// (the attempt's check and count are one step).
	var wg sync.WaitGroup
	var checked, limited atomic.Int32
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := try(fmt.Sprintf("192.0.2.%d", i+1), "guess", ""); {
			case errors.Is(err, ErrBadCredentials):
				checked.Add(1)
			case errors.Is(err, ErrRateLimited):
				limited.Add(1)
			default:
				t.Errorf("unexpected %v", err)
			}
		}()
	}
	wg.Wait()
	// 6 failures were counted before the burst.
	if want := int32(accountCeiling - 6); checked.Load() != want {
		t.Errorf("%d guesses checked from 40 fresh addresses, want %d (the ceiling)", checked.Load(), want)
	}
	// Past the ceiling a fresh address is refused even with the right
	// password; the owner's browser, recognised by its cookie, is not,
	// wherever it is.
	wantErr(t, try("198.51.100.9", pw, ""), ErrRateLimited)
	wantErr(t, try("198.51.100.9", pw, "forged-or-stale"), ErrRateLimited)
	wantErr(t, try("192.0.2.200", "typo", owner.Device), ErrBadCredentials)
	if err := try("192.0.2.200", pw, owner.Device); err != nil {
		t.Fatalf("recognised browser locked out: %v", err)
	}
	// A device cookie is the owner's only: it does not unlock another account.
	e.addUser(t, "petr@example.com", RoleAgent)
	for i := range accountCeiling {
		e.Login(e.ctx, Attempt{Email: "petr@example.com", Password: "guess", IP: fmt.Sprintf("192.0.2.%d", 100+i)})
	}
	_, err = e.Login(e.ctx, Attempt{Email: "petr@example.com", Password: "guess", IP: "198.51.100.7", Device: owner.Device})
	wantErr(t, err, ErrRateLimited)

	// A disabled account's browsers are no longer recognised.
	if err := e.DisableUser(e.ctx, "jana@example.com", "test"); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT count(*) FROM staff_devices d JOIN staff_users u ON u.id = d.user_id WHERE u.email = 'jana@example.com'`); n != 0 {
		t.Errorf("%d devices kept for a disabled account", n)
	}
}

func TestLoginRateLimitPerIP(t *testing.T) {
	e := newEnv(t)
	_, pw := e.addUser(t, "jana@example.com", RoleAgent)
	for i := range 20 {
		_, err := e.Login(e.ctx, Attempt{Email: fmt.Sprintf("guess%d@example.com", i), Password: "x", IP: "203.0.113.7"})
		wantErr(t, err, ErrBadCredentials)
	}
	_, err := e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: pw, IP: "203.0.113.7"})
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != failureWindow {
		t.Fatalf("err = %v, want rate limited for 15m", err)
	}
	e.login(t, "jana@example.com", pw) // from another address
	e.clock.Add(failureWindow)
	if _, err := e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: pw, IP: "203.0.113.7"}); err != nil {
		t.Errorf("after the window: %v", err)
	}
	// Failures that no longer count are pruned.
	e.Login(e.ctx, Attempt{Email: "x@example.com", Password: "x", IP: "203.0.113.8"})
	if n := e.count(t, `SELECT count(*) FROM staff_login_failures`); n != 1 {
		t.Errorf("%d failures stored, want 1", n)
	}
}

func TestSessionIdleExpiry(t *testing.T) {
	e := newEnv(t)
	_, pw := e.addUser(t, "jana@example.com", RoleAgent)
	s := e.login(t, "jana@example.com", pw)
	e.clock.Add(12*time.Hour - time.Second)
	got, err := e.Session(e.ctx, s.Token) // used: the idle limit slides
	if err != nil || !got.ExpiresAt.Equal(e.clock.Now().Add(12*time.Hour)) {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	e.clock.Add(12*time.Hour - time.Second)
	if _, err := e.Session(e.ctx, s.Token); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(12 * time.Hour)
	_, err = e.Session(e.ctx, s.Token)
	wantErr(t, err, ErrUnauthenticated)
	// The next login sweeps it away.
	e.login(t, "jana@example.com", pw)
	if n := e.count(t, `SELECT count(*) FROM staff_sessions`); n != 1 {
		t.Errorf("%d sessions stored, want 1", n)
	}
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	e := newEnv(t)
	_, pw := e.addUser(t, "jana@example.com", RoleAgent)
	start := e.clock.Now()
	s := e.login(t, "jana@example.com", pw)
	var last Session
	for e.clock.Now().Before(start.Add(7*24*time.Hour - 6*time.Hour)) {
		e.clock.Add(6 * time.Hour)
		var err error
		if last, err = e.Session(e.ctx, s.Token); err != nil {
			t.Fatalf("at %v: %v", e.clock.Now().Sub(start), err)
		}
	}
	if want := start.Add(7 * 24 * time.Hour); !last.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want the absolute limit %v", last.ExpiresAt, want)
	}
	e.clock.Add(6 * time.Hour)
	_, err := e.Session(e.ctx, s.Token)
	wantErr(t, err, ErrUnauthenticated)
}

func TestSessionTouchedAtMostOnceAMinute(t *testing.T) {
	e := newEnv(t)
	_, pw := e.addUser(t, "jana@example.com", RoleAgent)
	s := e.login(t, "jana@example.com", pw)
	seen := func() string {
		var at string
		e.db.QueryRow(`SELECT last_seen_at FROM staff_sessions`).Scan(&at)
		return at
	}
	first := seen()
	e.clock.Add(59 * time.Second)
	e.Session(e.ctx, s.Token)
	if seen() != first {
		t.Error("last_seen_at written within a minute")
	}
	e.clock.Add(time.Second)
	e.Session(e.ctx, s.Token)
	if seen() != formatTime(e.clock.Now()) {
		t.Errorf("last_seen_at = %s, want now", seen())
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	_, pw := e.addUser(t, "jana@example.com", RoleAgent)
	s1 := e.login(t, "jana@example.com", pw)
	s2 := e.login(t, "jana@example.com", pw)
	if err := e.Logout(e.ctx, s1.Token); err != nil {
		t.Fatal(err)
	}
	_, err := e.Session(e.ctx, s1.Token)
	wantErr(t, err, ErrUnauthenticated)
	if _, err := e.Session(e.ctx, s2.Token); err != nil {
		t.Errorf("the other session ended: %v", err)
	}
	if err := e.Logout(e.ctx, s1.Token); err != nil {
		t.Errorf("second logout: %v", err)
	}
	if err := e.Logout(e.ctx, ""); err != nil {
		t.Errorf("empty logout: %v", err)
	}
}

func TestSetPassword(t *testing.T) {
	e := newEnv(t)
	u, once := e.addUser(t, "jana@example.com", RoleAgent)
	here := e.login(t, "jana@example.com", once)
	elsewhere := e.login(t, "jana@example.com", once)
	tok, _ := e.CreateToken(e.ctx, "jana@example.com", "", "test")
	next := "a long enough passphrase"

	for _, tc := range []struct {
		name, current, next, field, code string
	}{
		{"short", once, "short", "password", fields.PasswordTooShort},
		{"eleven", once, strings.Repeat("é", 11), "password", fields.PasswordTooShort},
		{"huge", once, strings.Repeat("x", 2000), "password", fields.PasswordTooLong},
		{"same", once, once, "password", fields.PasswordUnchanged},
		{"wrong current", "not it", next, "current_password", fields.WrongPassword},
	} {
		err := e.SetPassword(e.ctx, u.ID, tc.current, tc.next, here.Token)
		if f := fieldCodes(t, err); len(f) != 1 || f[tc.field] != tc.code {
			t.Errorf("%s: fields = %v, want %s on %q", tc.name, f, tc.code, tc.field)
		}
	}
	wantErr(t, e.SetPassword(e.ctx, 999, once, next, ""), ErrNotFound)
	if err := e.SetPassword(e.ctx, u.ID, once, next, here.Token); err != nil {
		t.Fatal(err)
	}
	if s, err := e.Session(e.ctx, here.Token); err != nil || s.User.MustChangePassword {
		t.Errorf("current session: %+v, %v", s, err)
	}
	_, err := e.Session(e.ctx, elsewhere.Token)
	wantErr(t, err, ErrUnauthenticated)
	if _, err := e.Authenticate(e.ctx, tok); err != nil {
		t.Errorf("access token stopped working: %v", err)
	}
	_, err = e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: once})
	wantErr(t, err, ErrBadCredentials)
	e.login(t, "jana@example.com", next)

	// Guessing the current password is limited like logging in.
	for range 5 {
		e.SetPassword(e.ctx, u.ID, "guess", "another long passphrase", "")
	}
	wantErr(t, e.SetPassword(e.ctx, u.ID, next, "another long passphrase", ""), ErrRateLimited)
	_, err = e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: next})
	wantErr(t, err, ErrRateLimited)
}

func TestCSRF(t *testing.T) {
	a, b := "session-a", "session-b"
	if CSRFToken(a) == CSRFToken(b) || CSRFToken(a) == a || len(CSRFToken(a)) != 43 {
		t.Errorf("CSRFToken(a) = %q", CSRFToken(a))
	}
	for _, tc := range []struct {
		session, given string
		want           bool
	}{
		{a, CSRFToken(a), true},
		{a, CSRFToken(b), false},
		{a, CSRFToken(a)[:42], false},
		{a, "", false},
		{"", CSRFToken(""), false},
		{a, a, false},
	} {
		if got := CheckCSRF(tc.session, tc.given); got != tc.want {
			t.Errorf("CheckCSRF(%q, %q) = %v", tc.session, tc.given, got)
		}
	}
}

// Check and count are one step: a burst of simultaneous wrong passwords for
// one account gets at most the limit through to a password check.
func TestLoginLimitHoldsUnderABurst(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "jana@example.com", RoleAgent)
	var wg sync.WaitGroup
	errs := make([]error, 24)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: "wrong password", IP: "192.0.2.1"})
		}()
	}
	wg.Wait()
	var checked, limited int
	for _, err := range errs {
		switch {
		case errors.Is(err, ErrBadCredentials):
			checked++
		case errors.Is(err, ErrRateLimited):
			limited++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if checked != maxAccountFailures || limited != len(errs)-maxAccountFailures {
		t.Errorf("%d passwords checked, %d refused; want %d checked", checked, limited, maxAccountFailures)
	}
}

// Sign-in fields are bounded before any work: an over-long password is a
// wrong one without hashing it, an over-long e-mail is kept clipped.
func TestLoginBoundsItsInput(t *testing.T) {
	e := newEnv(t)
	_, pw := e.addUser(t, "jana@example.com", RoleAgent)
	_, err := e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: pw + strings.Repeat("x", 40<<20), IP: "192.0.2.1"})
	wantErr(t, err, ErrBadCredentials)
	_, err = e.Login(e.ctx, Attempt{Email: strings.Repeat("a", 200<<10) + "@example.com", Password: "whatever password", IP: "192.0.2.1"})
	wantErr(t, err, ErrBadCredentials)
	var longest int
	if err := e.db.QueryRow(`SELECT max(length(email)) FROM staff_login_failures`).Scan(&longest); err != nil || longest > 254 {
		t.Errorf("a failure stored an e-mail of %d bytes (%v), want at most 254", longest, err)
	}
	var audited int
	if err := e.db.QueryRow(`SELECT max(length(subject)) FROM staff_audit`).Scan(&audited); err != nil || audited > 254 {
		t.Errorf("the audit log stored an e-mail of %d bytes (%v)", audited, err)
	}
	e.login(t, "jana@example.com", pw) // two failures: still under the limit
}

// An attempt that ends without a verdict on its password (the hashing
// slots all taken, the request given up) is not a failure: while someone
// is failing for the account, a busy moment must not lock its owner out.
func TestAttemptWithoutVerdictIsNotAFailure(t *testing.T) {
	e := newEnv(t)
	_, pw := e.addUser(t, "jana@example.com", RoleAgent)
	for range 5 {
		e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: "guess", IP: "203.0.113.66"})
	}
	for range maxHashing { // every slot taken
		e.hashing <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(e.ctx, 50*time.Millisecond)
	_, err := e.Login(ctx, Attempt{Email: "jana@example.com", Password: pw, IP: "198.51.100.7"})
	cancel()
	wantErr(t, err, context.DeadlineExceeded)
	_, err = e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: pw, IP: "198.51.100.7"})
	var rl *RateLimitError
	if !errors.As(err, &rl) || !rl.Busy || !strings.Contains(err.Error(), "at once") {
		t.Fatalf("err = %v, want a busy *RateLimitError", err)
	}
	if n := e.count(t, `SELECT count(*) FROM staff_login_failures WHERE ip = '198.51.100.7'`); n != 0 {
		t.Errorf("%d failures counted for attempts without a verdict", n)
	}
	for range maxHashing {
		<-e.hashing
	}
	if _, err := e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: pw, IP: "198.51.100.7"}); err != nil {
		t.Fatalf("owner locked out after a busy moment: %v", err)
	}
}

// A signed-in owner can change the password while others fail to sign in
// to the account from many addresses; the session's own wrong guesses are
// what limit it.
func TestSetPasswordUnderAttack(t *testing.T) {
	e := newEnv(t)
	u, once := e.addUser(t, "jana@example.com", RoleAgent)
	here := e.login(t, "jana@example.com", once)
	for i := range accountCeiling {
		e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: "guess", IP: fmt.Sprintf("192.0.2.%d", i+1)})
	}
	next := "a long enough passphrase"
	if err := e.SetPassword(e.ctx, u.ID, once, next, here.Token); err != nil {
		t.Fatalf("password change under attack: %v", err)
	}
	for range 5 {
		var ve *ValidationError
		if err := e.SetPassword(e.ctx, u.ID, "guess", "another long passphrase", here.Token); !errors.As(err, &ve) {
			t.Fatalf("wrong current password: %v, want a *ValidationError", err)
		}
	}
	wantErr(t, e.SetPassword(e.ctx, u.ID, next, "another long passphrase", here.Token), ErrRateLimited)
}
