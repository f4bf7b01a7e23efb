package staff

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := hashPassword("correct horse battery", defaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q", h)
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		ok, p, err := verifyPassword(h, pw)
		if err != nil || ok != want || p != defaultParams {
			t.Errorf("verify %q = %v %+v %v, want %v", pw, ok, p, err, want)
		}
	}
	// Parameters come from the stored string, not the current default.
	cheap := hashParams{memory: 64, time: 1, threads: 1}
	h2, _ := hashPassword("pw", cheap)
	if ok, p, err := verifyPassword(h2, "pw"); !ok || p != cheap || err != nil {
		t.Errorf("cheap hash: %v %+v %v", ok, p, err)
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA"} {
		if _, _, err := verifyPassword(bad, "pw"); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestOneTimePasswords(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		p, err := newPassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != oneTimePasswordLen || strings.ContainsAny(p, "0O1lI") || strings.Trim(p, passwordAlphabet) != "" || seen[p] {
			t.Fatalf("password %q", p)
		}
		seen[p] = true
	}
}

func TestLoginRehashesWithNewParameters(t *testing.T) {
	e := newEnv(t)
	_, pw := e.addUser(t, "a@example.com", RoleAgent)
	e.params = hashParams{memory: 128, time: 2, threads: 1} // the cost was raised
	e.login(t, "a@example.com", pw)
	var h string
	e.db.QueryRow(`SELECT password_hash FROM staff_users`).Scan(&h)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=128,t=2,p=1$") {
		t.Errorf("hash after login = %q", h)
	}
	e.login(t, "a@example.com", pw)
}
