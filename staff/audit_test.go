package staff

import (
	"testing"
)

func TestAudit(t *testing.T) {
	e := newEnv(t)
	_, pw := e.addUser(t, "jana@example.com", RoleOperator)
	e.Login(e.ctx, Attempt{Email: "jana@example.com", Password: "wrong", IP: "192.0.2.1"})
	s := e.login(t, "jana@example.com", pw)
	if err := e.Record(e.ctx, s.User, "settings changed", "search cache", map[string]string{"from": "4096", "to": "0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateToken(e.ctx, "jana@example.com", "ci", "cli:root"); err != nil {
		t.Fatal(err)
	}
	e.Logout(e.ctx, s.Token)
	if err := e.DisableUser(e.ctx, "jana@example.com", "cli:root"); err != nil {
		t.Fatal(err)
	}
	if f := fieldErrors(t, e.Record(e.ctx, s.User, "", "", nil)); f["action"] == "" {
		t.Errorf("empty action: %v", f)
	}
	if err := e.Record(e.ctx, User{}, "x", "", nil); err == nil {
		t.Error("Record without an actor was accepted")
	}

	entries, err := e.Audit(e.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		actorID                                        int64
		actor, action, subject, detailKey, detailValue string
	}{
		{0, "cli:root", "user disabled", "jana@example.com", "tokens_revoked", "1"},
		{s.User.ID, "jana@example.com", "logout", "jana@example.com", "", ""},
		{0, "cli:root", "token created", "jana@example.com", "name", "ci"},
		{s.User.ID, "jana@example.com", "settings changed", "search cache", "to", "0"},
		{s.User.ID, "jana@example.com", "login", "jana@example.com", "ip", "192.0.2.1"},
		{0, "anonymous", "login failed", "jana@example.com", "reason", "wrong password"},
		{0, "test", "user added", "jana@example.com", "role", "operator"},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(entries), len(want), entries)
	}
	for i, w := range want {
		g := entries[i]
		if g.ActorID != w.actorID || g.Actor != w.actor || g.Action != w.action || g.Subject != w.subject ||
			(w.detailKey != "" && g.Detail[w.detailKey] != w.detailValue) || !g.At.Equal(e.clock.Now()) {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
	if entries, _ := e.Audit(e.ctx, 2); len(entries) != 2 || entries[0].Action != "user disabled" {
		t.Errorf("Audit(2) = %+v", entries)
	}
}
