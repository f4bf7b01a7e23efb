package mailroute

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/orbitask/portal/inbound"
	"github.com/orbitask/portal/sqlitedb"
)

// mailbox is the address as the mailbox that receives it: the key the
// per-sender cap counts on (lower-cased, "+ext" dropped from the local
// part, so that victim+1@ and victim+2@ are one) and its domain.
func mailbox(addr string) (key, domain string) {
	local, domain, _ := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@")
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	return local + "@" + domain, domain
}

// vouched says whether the mail's From may be answered, and why not. The
// answer goes to From, which the sender writes as they like; the portal
// answers only when
//   - the topmost Authentication-Results header (added by the
//     organisation's mail server) does not say dmarc=fail or spf=fail, and
//   - the envelope sender's domain is the From domain (or one is a
//     subdomain of the other: bounces@mail.firm.example for
//     petr@firm.example), or that header says dmarc=pass (which proves the
//     From domain; spf=pass proves only the envelope's).
func vouched(m inbound.Mail, envelopeFrom string) (bool, string) {
	dmarc, spf := inbound.AuthResult(m.AuthResults, "dmarc"), inbound.AuthResult(m.AuthResults, "spf")
	switch {
	case dmarc == "fail":
		return false, "Authentication-Results says dmarc=fail"
	case spf == "fail":
		return false, "Authentication-Results says spf=fail"
	case dmarc == "pass":
		return true, ""
	}
	_, from := mailbox(m.From)
	env := strings.Trim(strings.TrimSpace(envelopeFrom), "<>")
	_, envDomain := mailbox(env)
	if env == "" || !aligned(envDomain, from) {
		return false, fmt.Sprintf("the envelope sender's domain %q is not the From domain %q (a forged From?)", envDomain, from)
	}
	return true, ""
}

// aligned says whether domains a and b are one, or one is a subdomain of
// the other.
func aligned(a, b string) bool {
	a, b = strings.TrimSuffix(a, "."), strings.TrimSuffix(b, ".")
	if a == "" || b == "" {
		return false
	}
	return a == b || strings.HasSuffix(a, "."+b) || strings.HasSuffix(b, "."+a)
}

// overCap says which hourly cap on answers a new answer to senderKey would
// exceed, "" when none.
func (r *Router) overCap(ctx context.Context, tx *sqlitedb.Tx, senderKey, domain string, now time.Time) (string, error) {
	since := sqlitedb.FormatTime(now.Add(-time.Hour))
	for _, c := range []struct {
		query string
		args  []any
		max   int
		why   string
	}{
		{`SELECT count(*) FROM mailroute_questions WHERE sender_key = ? AND created_at > ?`, []any{senderKey, since},
			r.cfg.AnswersPerHour, "the sender had its %d answers this hour"},
		{`SELECT count(*) FROM mailroute_questions WHERE domain = ? AND created_at > ?`, []any{domain, since},
			r.cfg.AnswersPerDomainHour, "the sender's domain had its %d answers this hour"},
		{`SELECT count(*) FROM mailroute_questions WHERE created_at > ?`, []any{since},
			r.cfg.AnswersTotalHour, "the portal sent its %d answers this hour"},
	} {
		var n int
		if err := tx.QueryRowContext(ctx, c.query, c.args...).Scan(&n); err != nil {
			return "", err
		}
		if n >= c.max {
			return fmt.Sprintf(c.why, c.max), nil
		}
	}
	return "", nil
}
