package tickets

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

// IdempotencyTTL is how long a filing's idempotency key is remembered: a
// repeat within it gets the first ticket, a later one files anew.
const IdempotencyTTL = 24 * time.Hour

// Idempotency keys are chosen by the client; a short one would be easy to
// guess, and a guessed key with the same filing opens its token.
const (
	MinIdempotencyKey = 16
	MaxIdempotencyKey = 255
)

// ErrKeyReused is a filing whose idempotency key was used, within
// IdempotencyTTL, for a different filing. Nothing is stored.
var ErrKeyReused = errors.New("idempotency key already used for a different filing")

// errRepeat undoes a filing whose key a concurrent filing committed first.
var errRepeat = errors.New("idempotency key already used")

func checkIdempotencyKey(k string) fields.Problem {
	bad := fields.New(fields.IdempotencyKey, "min", MinIdempotencyKey, "max", MaxIdempotencyKey)
	if len(k) < MinIdempotencyKey || len(k) > MaxIdempotencyKey {
		return bad
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return bad
		}
	}
	return fields.Problem{}
}

// filingKey is what is stored of an idempotency key: its hash, the hash of
// the filing it was first used for, and what seals that filing's token.
type filingKey struct {
	raw     string
	hash    [32]byte
	request [32]byte
}

func newFilingKey(key string, c checked) filingKey {
	type att struct{ Name, SHA256 string }
	in := struct {
		Name, Company, Phone, Email, Subject, Description string
		Severity                                          int
		Version, Environment, ErrorMessages, Deployment   string
		Lang, DeflectionSession                           string
		Attachments                                       []att
	}{c.Name, c.Company, c.Phone, c.Email, c.Subject, c.Description, c.Severity,
		c.Version, c.Environment, c.ErrorMessages, string(c.Deployment), c.Lang, c.DeflectionSession, nil}
	for _, a := range c.attachments {
		in.Attachments = append(in.Attachments, att{a.Name, a.SHA256})
	}
	data, _ := json.Marshal(in) // strings and ints: cannot fail
	return filingKey{raw: key, hash: sha256.Sum256([]byte(key)), request: sha256.Sum256(data)}
}

// aead is the cipher that seals the token: its key is derived from the
// idempotency key, which is stored only hashed, so the database alone does
// not open it.
func (k filingKey) aead() (cipher.AEAD, error) {
	secret, err := hkdf.Key(sha256.New, []byte(k.raw), nil, "orbitask ticket token seal", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (k filingKey) seal(token string) ([]byte, error) {
	aead, err := k.aead()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, []byte(token), k.hash[:]), nil
}

func (k filingKey) open(sealed []byte) (string, error) {
	aead, err := k.aead()
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("sealed token too short")
	}
	token, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], k.hash[:])
	return string(token), err
}

// repeated returns the ticket first filed with k, and its token, if k was
// used within IdempotencyTTL; ErrKeyReused if for another filing.
func (s *Store) repeated(ctx context.Context, k filingKey) (Ticket, string, bool, error) {
	var (
		number          int
		request, sealed []byte
	)
	err := s.db.QueryRowContext(ctx, `SELECT t.number, i.request_hash, i.sealed_token
		FROM ticket_idempotency i JOIN tickets t ON t.id = i.ticket_id
		WHERE i.key_hash = ? AND i.created_at > ?`, k.hash[:], s.keyCutoff()).Scan(&number, &request, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, "", false, nil
	}
	if err != nil {
		return Ticket{}, "", false, err
	}
	if !bytes.Equal(request, k.request[:]) {
		return Ticket{}, "", false, ErrKeyReused
	}
	token, err := k.open(sealed)
	if err != nil {
		return Ticket{}, "", false, fmt.Errorf("idempotency key of #%d: %w", number, err)
	}
	tk, _, err := s.load(ctx, number)
	if err != nil {
		return Ticket{}, "", false, err
	}
	s.log.Info("filing repeated", "number", number)
	return tk.ForCustomer(), token, true, nil
}

// keyCutoff: keys stored at or before it have expired.
func (s *Store) keyCutoff() string { return formatTime(s.now().UTC().Add(-IdempotencyTTL)) }

// claimKey, inside the filing's transaction, forgets expired keys and
// refuses (errRepeat) a key that a concurrent filing has committed since
// repeated looked: the one writer runs filings one at a time, so the
// second of two sees the first.
func (s *Store) claimKey(ctx context.Context, tx *sqlitedb.Tx, k filingKey) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM ticket_idempotency WHERE created_at <= ?`, s.keyCutoff()); err != nil {
		return err
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM ticket_idempotency WHERE key_hash = ?`, k.hash[:]).Scan(&one)
	if err == nil {
		return errRepeat
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

func storeKey(ctx context.Context, tx *sqlitedb.Tx, k filingKey, ticketID int64, sealed []byte, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ticket_idempotency (key_hash, ticket_id, request_hash, sealed_token, created_at)
		VALUES (?, ?, ?, ?, ?)`, k.hash[:], ticketID, k.request[:], sealed, formatTime(now))
	return err
}
