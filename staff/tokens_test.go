package staff

import (
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	e := newEnv(t)
	u, _ := e.addUser(t, "jana@example.com", RoleOperator)
	tok, err := e.CreateToken(e.ctx, "JANA@example.com", " nightly export ", "test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) != len(TokenPrefix)+43 {
		t.Errorf("token = %q", tok)
	}
	if n := e.count(t, `SELECT count(*) FROM staff_tokens WHERE name = 'nightly export' AND token_hash <> ?`, tok); n != 1 {
		t.Error("token not stored as a hash with its name")
	}
	got, err := e.Authenticate(e.ctx, tok)
	if err != nil || got.ID != u.ID || got.Role != RoleOperator {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	for _, bad := range []string{"", tok + "x", tok[len(TokenPrefix):], TokenPrefix} {
		_, err := e.Authenticate(e.ctx, bad)
		wantErr(t, err, ErrUnauthenticated)
	}
	// A token is not a session, nor a session a token.
	_, err = e.Session(e.ctx, tok)
	wantErr(t, err, ErrUnauthenticated)

	_, err = e.CreateToken(e.ctx, "nobody@example.com", "", "test")
	wantErr(t, err, ErrNotFound)
	_, err = e.CreateToken(e.ctx, "jana@example.com", strings.Repeat("x", 101), "test")
	if f := fieldErrors(t, err); f["name"] == "" {
		t.Errorf("fields = %v", f)
	}

	used := func() string {
		var at string
		e.db.QueryRow(`SELECT last_used_at FROM staff_tokens`).Scan(&at)
		return at
	}
	first := used()
	if first != formatTime(e.clock.Now()) {
		t.Errorf("last_used_at = %q", first)
	}
	e.clock.Add(30 * time.Second)
	e.Authenticate(e.ctx, tok)
	if used() != first {
		t.Error("last_used_at written within a minute")
	}
	e.clock.Add(30 * time.Second)
	e.Authenticate(e.ctx, tok)
	if used() != formatTime(e.clock.Now()) {
		t.Error("last_used_at not updated after a minute")
	}
}
