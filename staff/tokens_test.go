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

// A user sees their own tokens in force, never the secret; revoking one
// ends it at once and is audited; nobody revokes another's token, nor one
// twice.
func TestListAndRevokeTokens(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "wendy@example.com", RoleWriter)
	e.addUser(t, "walt@example.com", RoleWriter)
	first, err := e.CreateToken(e.ctx, "wendy@example.com", "laptop", "wendy@example.com")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)
	second, err := e.CreateToken(e.ctx, "wendy@example.com", "desktop", "wendy@example.com")
	if err != nil {
		t.Fatal(err)
	}
	others, err := e.CreateToken(e.ctx, "walt@example.com", "walt's", "walt@example.com")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Minute)
	if _, err := e.Authenticate(e.ctx, first); err != nil {
		t.Fatal(err)
	}

	list, err := e.ListTokens(e.ctx, "Wendy@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "desktop" || list[1].Name != "laptop" {
		t.Fatalf("ListTokens = %+v, want desktop then laptop", list)
	}
	if !list[1].LastUsedAt.Equal(e.clock.Now()) || !list[0].LastUsedAt.IsZero() {
		t.Errorf("last used = %v, %v; want now and never", list[1].LastUsedAt, list[0].LastUsedAt)
	}
	if !list[0].CreatedAt.Equal(e.clock.Now().Add(-2 * time.Minute)) {
		t.Errorf("created = %v", list[0].CreatedAt)
	}
	if none, err := e.ListTokens(e.ctx, "nobody@example.com"); err != nil || len(none) != 0 {
		t.Errorf("unknown user: %v, %v", none, err)
	}

	// Not hers: refused as unknown, and the token still works.
	walts, _ := e.ListTokens(e.ctx, "walt@example.com")
	wantErr(t, e.RevokeToken(e.ctx, "wendy@example.com", walts[0].ID, "wendy@example.com"), ErrNotFound)
	if _, err := e.Authenticate(e.ctx, others); err != nil {
		t.Fatalf("another's revoke attempt ended the token: %v", err)
	}

	if err := e.RevokeToken(e.ctx, "wendy@example.com", list[1].ID, "wendy@example.com"); err != nil {
		t.Fatal(err)
	}
	_, err = e.Authenticate(e.ctx, first)
	wantErr(t, err, ErrUnauthenticated)
	if _, err := e.Authenticate(e.ctx, second); err != nil {
		t.Errorf("the other token: %v", err)
	}
	wantErr(t, e.RevokeToken(e.ctx, "wendy@example.com", list[1].ID, "wendy@example.com"), ErrNotFound)
	if list, _ = e.ListTokens(e.ctx, "wendy@example.com"); len(list) != 1 || list[0].Name != "desktop" {
		t.Errorf("after revoking: %+v", list)
	}
	entries, err := e.Audit(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if a := entries[0]; a.Action != "token revoked" || a.Subject != "wendy@example.com" || a.Actor != "wendy@example.com" || a.Detail["name"] != "laptop" {
		t.Errorf("audit = %+v", a)
	}
}
