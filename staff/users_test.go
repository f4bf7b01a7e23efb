package staff

import (
	"strings"
	"testing"
	"time"
)

func TestRoleAllows(t *testing.T) {
	roles := []Role{RoleAgent, RoleOperator, RoleWriter, Role(""), Role("admin")}
	want := map[Role][]Role{
		RoleOperator: {RoleAgent, RoleOperator},
		RoleAgent:    {RoleAgent},
		RoleWriter:   {RoleWriter},
	}
	for _, have := range roles {
		for _, need := range roles {
			expect := false
			for _, r := range want[have] {
				expect = expect || r == need
			}
			if got := have.Allows(need); got != expect {
				t.Errorf("%q.Allows(%q) = %v, want %v", have, need, got, expect)
			}
		}
	}
}

func TestAddUserValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, email, userName string
		role                  Role
		bad                   []string // fields at fault
	}{
		{"valid", "  Jana@Example.COM ", "Jana Nováková", RoleAgent, nil},
		{"valid writer", "w@example.com", "W", RoleWriter, nil},
		{"empty email", "", "X", RoleAgent, []string{"email"}},
		{"not an address", "jana", "X", RoleAgent, []string{"email"}},
		{"display name", "Jana <jana2@example.com>", "X", RoleAgent, []string{"email"}},
		{"too long", strings.Repeat("a", 250) + "@example.com", "X", RoleAgent, []string{"email"}},
		{"no name", "n@example.com", "  ", RoleAgent, []string{"name"}},
		{"long name", "n@example.com", strings.Repeat("x", 201), RoleAgent, []string{"name"}},
		{"bad role", "r@example.com", "R", Role("admin"), []string{"role"}},
		{"everything", "x", "", "", []string{"email", "name", "role"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, once, err := e.AddUser(e.ctx, tt.email, tt.userName, tt.role, "test")
			if tt.bad == nil {
				if err != nil {
					t.Fatal(err)
				}
				if u.ID == 0 || u.Email != strings.ToLower(strings.TrimSpace(tt.email)) || u.Role != tt.role || !u.MustChangePassword || u.Disabled {
					t.Errorf("user = %+v", u)
				}
				if len(once) != oneTimePasswordLen || strings.Trim(once, passwordAlphabet) != "" {
					t.Errorf("one-time password %q", once)
				}
				got, err := e.UserByEmail(e.ctx, tt.email)
				if err != nil || got != u {
					t.Errorf("stored %+v, %v; returned %+v", got, err, u)
				}
				return
			}
			f := fieldErrors(t, err)
			if len(f) != len(tt.bad) {
				t.Errorf("fields %v, want %v", f, tt.bad)
			}
			for _, k := range tt.bad {
				if f[k] == "" {
					t.Errorf("fields %v lack %q", f, k)
				}
			}
		})
	}
	if n := e.count(t, `SELECT count(*) FROM staff_users`); n != 2 {
		t.Errorf("%d users stored, want 2", n)
	}
}

func TestAddUserDuplicateEmail(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "jana@example.com", RoleAgent)
	_, _, err := e.AddUser(e.ctx, "JANA@example.com", "Other", RoleWriter, "test")
	if f := fieldErrors(t, err); !strings.Contains(f["email"], "already used") {
		t.Errorf("fields = %v", f)
	}
}

func TestUsersAndLookup(t *testing.T) {
	e := newEnv(t)
	b, _ := e.addUser(t, "b@example.com", RoleWriter)
	a, _ := e.addUser(t, "a@example.com", RoleOperator)
	users, err := e.Users(e.ctx)
	if err != nil || len(users) != 2 || users[0] != a || users[1] != b {
		t.Fatalf("Users = %+v, %v", users, err)
	}
	if got, err := e.UserByID(e.ctx, b.ID); err != nil || got != b {
		t.Errorf("UserByID = %+v, %v", got, err)
	}
	_, err = e.UserByID(e.ctx, 999)
	wantErr(t, err, ErrNotFound)
	_, err = e.UserByEmail(e.ctx, "nobody@example.com")
	wantErr(t, err, ErrNotFound)
	if !a.CreatedAt.Equal(e.clock.Now()) || !a.LastLoginAt.IsZero() {
		t.Errorf("times: %+v", a)
	}
}

func TestTimesStoredFixedWidth(t *testing.T) {
	e := newEnv(t)
	e.clock.Add(120 * time.Millisecond) // a fraction that RFC3339Nano would shorten
	e.addUser(t, "a@example.com", RoleAgent)
	var created string
	e.db.QueryRow(`SELECT created_at FROM staff_users`).Scan(&created)
	if created != "2026-03-04T10:00:00.120Z" {
		t.Errorf("created_at = %q", created)
	}
}

func TestDisableUser(t *testing.T) {
	e := newEnv(t)
	_, pw := e.addUser(t, "a@example.com", RoleAgent)
	other, opw := e.addUser(t, "b@example.com", RoleAgent)
	sess := e.login(t, "a@example.com", pw)
	otherSess := e.login(t, "b@example.com", opw)
	tok, err := e.CreateToken(e.ctx, "a@example.com", "script", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.DisableUser(e.ctx, "A@example.com", "test"); err != nil {
		t.Fatal(err)
	}
	_, err = e.Session(e.ctx, sess.Token)
	wantErr(t, err, ErrUnauthenticated)
	_, err = e.Authenticate(e.ctx, tok)
	wantErr(t, err, ErrUnauthenticated)
	_, err = e.Login(e.ctx, Attempt{Email: "a@example.com", Password: pw, IP: "192.0.2.1"})
	wantErr(t, err, ErrBadCredentials)
	_, err = e.CreateToken(e.ctx, "a@example.com", "", "test")
	if f := fieldErrors(t, err); f["email"] == "" {
		t.Errorf("token for a disabled account: %v", f)
	}
	if u, _ := e.UserByEmail(e.ctx, "a@example.com"); !u.Disabled {
		t.Error("not marked disabled")
	}
	// Another account is untouched.
	if s, err := e.Session(e.ctx, otherSess.Token); err != nil || s.User.ID != other.ID {
		t.Errorf("other session: %+v, %v", s, err)
	}

	if f := fieldErrors(t, e.DisableUser(e.ctx, "a@example.com", "test")); f["email"] == "" {
		t.Errorf("second disable: %v", f)
	}
	wantErr(t, e.DisableUser(e.ctx, "nobody@example.com", "test"), ErrNotFound)
}
