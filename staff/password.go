package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// hashParams are argon2id's cost parameters.
type hashParams struct {
	memory  uint32 // KiB
	time    uint32 // passes
	threads uint8
}

// defaultParams are OWASP's minimum for argon2id (m=19 MiB, t=2, p=1).
var defaultParams = hashParams{memory: 19456, time: 2, threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// maxStoredMemory refuses a stored hash that would make a login
	// allocate more than 1 GiB (a corrupted or hostile row).
	maxStoredMemory = 1 << 20
)

var errBadHash = errors.New("malformed password hash")

// hashPassword returns password's argon2id hash as a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, base64 without padding.
func hashPassword(password string, p hashParams) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// verifyPassword reports whether password matches the PHC string, using the
// parameters stored in it (so they can be raised without invalidating old
// hashes), and returns those parameters. The comparison is constant time.
func verifyPassword(phc, password string) (bool, hashParams, error) {
	p, salt, key, err := parseHash(phc)
	if err != nil {
		return false, hashParams{}, err
	}
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, p, nil
}

func parseHash(phc string) (hashParams, []byte, []byte, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return hashParams{}, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return hashParams{}, nil, nil, errBadHash
	}
	var p hashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return hashParams{}, nil, nil, errBadHash
	}
	if p.time < 1 || p.threads < 1 || p.memory < 8*uint32(p.threads) || p.memory > maxStoredMemory {
		return hashParams{}, nil, nil, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return hashParams{}, nil, nil, errBadHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return hashParams{}, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// passwordAlphabet leaves out characters easily confused when a one-time
// password is read aloud or copied by hand: 0 O o 1 l I.
const passwordAlphabet = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

const oneTimePasswordLen = 20

// newPassword returns a random one-time password (about 116 bits).
func newPassword() (string, error) {
	// Reject bytes past the largest multiple of the alphabet's size, so
	// every character is equally likely.
	limit := 256 - 256%len(passwordAlphabet)
	out := make([]byte, 0, oneTimePasswordLen)
	buf := make([]byte, 2*oneTimePasswordLen)
	for len(out) < oneTimePasswordLen {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < oneTimePasswordLen {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out), nil
}
