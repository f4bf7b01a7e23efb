package gitweb

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/main"}`)
	sign := func(secret string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		return hex.EncodeToString(m.Sum(nil))
	}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		host    string
		err     error
	}{
		{"github", map[string]string{headerGitHub: "sha256=" + sign("s3cret")}, "github", nil},
		{"github wrong secret", map[string]string{headerGitHub: "sha256=" + sign("other")}, "github", errBadSignature},
		{"github without prefix", map[string]string{headerGitHub: sign("s3cret")}, "github", errBadSignature},
		{"github not hex", map[string]string{headerGitHub: "sha256=zz"}, "github", errBadSignature},
		{"gitea", map[string]string{headerGitea: sign("s3cret")}, "gitea", nil},
		{"gitea wrong", map[string]string{headerGitea: sign("s3cret") + "00"}, "gitea", errBadSignature},
		{"gitlab", map[string]string{headerGitLab: "s3cret"}, "gitlab", nil},
		{"gitlab wrong", map[string]string{headerGitLab: "s3cre"}, "gitlab", errBadSignature},
		{"none", map[string]string{}, "", errNoSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host, err := verifySignature(func(k string) string { return tc.headers[k] }, body, "s3cret")
			if host != tc.host || !errors.Is(err, tc.err) {
				t.Errorf("got %q, %v; want %q, %v", host, err, tc.host, tc.err)
			}
		})
	}
	if _, err := verifySignature(func(string) string { return "x" }, body, ""); err == nil {
		t.Error("an empty secret verified a request")
	}
}
