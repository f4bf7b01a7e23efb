package gitweb

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
)

// Headers a git host signs its webhooks with.
const (
	headerGitHub = "X-Hub-Signature-256" // "sha256=" + hex HMAC-SHA256 of the body
	headerGitea  = "X-Gitea-Signature"   // hex HMAC-SHA256 of the body
	headerGitLab = "X-Gitlab-Token"      // the secret itself
)

var (
	errNoSignature  = errors.New("no signature: expected " + headerGitHub + ", " + headerGitea + " or " + headerGitLab)
	errBadSignature = errors.New("signature does not match the configured secret")
)

// verifySignature checks a webhook's body against secret the way its host
// signs it; get returns a request header. The host is recognised by its
// header; a request carrying none is refused, and so is one whose
// signature does not match. Comparisons take constant time.
func verifySignature(get func(string) string, body []byte, secret string) (host string, err error) {
	if secret == "" {
		return "", errors.New("no webhook secret is configured")
	}
	mac := func() []byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		return m.Sum(nil)
	}
	switch {
	case get(headerGitHub) != "":
		sig, ok := strings.CutPrefix(get(headerGitHub), "sha256=")
		got, err := hex.DecodeString(sig)
		if !ok || err != nil || !hmac.Equal(got, mac()) {
			return "github", errBadSignature
		}
		return "github", nil
	case get(headerGitea) != "":
		got, err := hex.DecodeString(get(headerGitea))
		if err != nil || !hmac.Equal(got, mac()) {
			return "gitea", errBadSignature
		}
		return "gitea", nil
	case get(headerGitLab) != "":
		if subtle.ConstantTimeCompare([]byte(get(headerGitLab)), []byte(secret)) != 1 {
			return "gitlab", errBadSignature
		}
		return "gitlab", nil
	}
	return "", errNoSignature
}
