// Package replytag makes and checks the reply addresses of ticket mails:
// "support+1001.TAG@help.example", where TAG is an HMAC of the ticket
// number under the portal's secret key. A customer's answer to any ticket
// mail comes back to that address; only the portal can make a valid tag,
// so a mail cannot be slipped onto another ticket by guessing its number.
package replytag

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"strconv"
	"strings"
)

// KeySize is the length of the secret key in bytes.
const KeySize = 32

// tagBytes of the HMAC are kept: 80 bits, 16 base32 letters.
const tagBytes = 10

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// Tags makes and checks reply addresses under one key and base address.
type Tags struct {
	key           []byte
	local, domain string
}

// New returns Tags for the base address (the support address, e.g.
// "support@help.example" or "Support <support@help.example>").
func New(key []byte, base string) (*Tags, error) {
	if len(key) < 16 {
		return nil, errors.New("replytag: the key must have at least 16 bytes")
	}
	a, err := mail.ParseAddress(base)
	if err != nil {
		return nil, fmt.Errorf("replytag: base address %q: %w", base, err)
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok || local == "" || domain == "" || strings.Contains(local, "+") {
		return nil, fmt.Errorf("replytag: base address %q: want local@domain without '+'", base)
	}
	return &Tags{key: append([]byte(nil), key...), local: local, domain: strings.ToLower(domain)}, nil
}

// Base is the support address itself, without a tag: mail to it is a new
// question.
func (t *Tags) Base() string { return t.local + "@" + t.domain }

// Address is ticket number's reply address.
func (t *Tags) Address(number int) string {
	return t.local + "+" + strconv.Itoa(number) + "." + t.tag(number) + "@" + t.domain
}

func (t *Tags) tag(number int) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte("ticket:" + strconv.Itoa(number)))
	return strings.ToLower(enc.EncodeToString(m.Sum(nil)[:tagBytes]))
}

// Kind of a recipient address, as Parse reads it.
type Kind int

const (
	Other    Kind = iota // not the support address at all
	Question             // the support address without a tag: a new question
	Reply                // a valid reply address of a ticket
	Forged               // the support address with a tag that is not valid
)

// Parse reads a recipient address (with or without a display name). For a
// Reply it returns the ticket number. Local part and domain are compared
// without regard to case, since mail servers may change it.
func (t *Tags) Parse(addr string) (Kind, int) {
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	}
	local, domain, ok := strings.Cut(strings.TrimSpace(addr), "@")
	if !ok || !strings.EqualFold(domain, t.domain) {
		return Other, 0
	}
	base, ext, tagged := strings.Cut(local, "+")
	if !strings.EqualFold(base, t.local) {
		return Other, 0
	}
	if !tagged {
		return Question, 0
	}
	num, tag, ok := strings.Cut(ext, ".")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n <= 0 || strconv.Itoa(n) != num {
		return Forged, 0
	}
	if !hmac.Equal([]byte(strings.ToLower(tag)), []byte(t.tag(n))) {
		return Forged, 0
	}
	return Reply, n
}

// LoadKey reads the key file at path, creating it with a fresh random key
// (mode 0600) if it does not exist.
func LoadKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) != KeySize {
			return nil, fmt.Errorf("replytag: %s: %d bytes, want %d (delete it to make a new key; earlier reply addresses then stop working)", path, len(key), KeySize)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("replytag: %w", err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("replytag: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process made it first
		return LoadKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("replytag: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("replytag: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("replytag: %w", err)
	}
	return key, f.Close()
}
