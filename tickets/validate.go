package tickets

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/langtag"
)

// Deployment is where the customer runs the product; a bug report is valid
// for the vendor's cloud or an installation following the recommended
// procedure.
type Deployment string

// The deployments a ticket can name.
const (
	DeploymentCloud     Deployment = "cloud"
	DeploymentOwnServer Deployment = "own-server" // recommended installation on the customer's server
	DeploymentOther     Deployment = "other"
)

// NewTicket is what a customer submits.
type NewTicket struct {
	Name, Company, Phone, Email string // all required
	Subject, Description        string // required
	Severity                    int    // required, 1 (urgent) .. 4 (low)
	Version, Environment        string // optional
	ErrorMessages               string // optional
	Deployment                  Deployment
	Lang                        string // "" = detect from subject and description
	DeflectionSession           string // opaque id of the drafting session, stored
	Attachments                 []Attachment
	// IdempotencyKey, optional, makes a retry safe: the same key with the
	// same filing within IdempotencyTTL gets the first ticket and its token
	// (ErrKeyReused with another filing). 16 to 255 visible ASCII characters.
	IdempotencyKey string
}

// Field limits, in characters.
const (
	maxShort       = 200  // name, company, subject
	maxEmail       = 254  // RFC 5321 path limit
	maxVersion     = 100  // product version
	maxEnvironment = 5000 // environment specification
	maxLong        = MaxDescription
	maxSession     = 128 // deflection session id
)

// MaxDescription is the most characters a description, an error message
// or a reply may have.
const MaxDescription = 20_000

// ValidationError lists every field at fault, keyed by field name (the
// NewTicket field in snake case: "name", "email", "error_messages",
// "deflection_session", "attachments", and "body", "status" for replies and
// status changes), each with a fields code and its parameters. Nothing is
// stored when it is returned.
type ValidationError = fields.Error

// checked is a NewTicket after validation: trimmed, with the language
// settled and the attachments typed and hashed.
type checked struct {
	NewTicket
	lang        string
	attachments []pendingAttachment
}

// validate checks every field of t and returns the cleaned ticket, or a
// *ValidationError naming each field at fault.
func validate(t NewTicket, idx stopIndex) (checked, error) {
	bad := &ValidationError{}
	c := checked{NewTicket: t}
	line := func(key string, v *string, required bool, limit int) {
		*v = strings.TrimSpace(*v)
		if p := checkText(*v, required, limit, false); p.Code != "" {
			bad.Set(key, p)
		}
	}
	text := func(key string, v *string, required bool, limit int) {
		*v = strings.TrimSpace(*v)
		if p := checkText(*v, required, limit, true); p.Code != "" {
			bad.Set(key, p)
		}
	}
	line("name", &c.Name, true, maxShort)
	line("company", &c.Company, true, maxShort)
	line("phone", &c.Phone, true, 40)
	if !bad.Has("phone") {
		if code := checkPhone(c.Phone); code != "" {
			bad.Add("phone", code)
		}
	}
	line("email", &c.Email, true, maxEmail)
	if !bad.Has("email") && !isEmail(c.Email) {
		bad.Add("email", fields.Email)
	}
	line("subject", &c.Subject, true, maxShort)
	text("description", &c.Description, true, maxLong)
	if c.Severity < 1 || c.Severity > 4 {
		bad.Add("severity", fields.Severity)
	}
	line("version", &c.Version, false, maxVersion)
	text("environment", &c.Environment, false, maxEnvironment)
	text("error_messages", &c.ErrorMessages, false, maxLong)
	switch c.Deployment {
	case "", DeploymentCloud, DeploymentOwnServer, DeploymentOther:
	default:
		bad.Add("deployment", fields.Deployment)
	}
	line("deflection_session", &c.DeflectionSession, false, maxSession)
	if c.Lang = strings.TrimSpace(c.Lang); c.Lang != "" {
		if l, ok := langtag.Normalize(c.Lang); ok {
			c.lang = l
		} else {
			bad.Add("lang", fields.Lang)
		}
	}
	if c.IdempotencyKey != "" {
		if p := checkIdempotencyKey(c.IdempotencyKey); p.Code != "" {
			bad.Set("idempotency_key", p)
		}
	}
	atts, p := checkAttachments(t.Attachments)
	if p.Code != "" {
		bad.Set("attachments", p)
	}
	c.attachments = atts
	if len(bad.Fields) > 0 {
		return checked{}, bad
	}
	if c.lang == "" {
		c.lang = idx.detectLang(c.Subject + "\n" + c.Description)
	}
	return c, nil
}

// checkText returns what is wrong with a text field, or a Problem without a
// code. Single-line fields refuse all control characters; multi-line ones
// allow newlines and tabs.
func checkText(v string, required bool, limit int, multiline bool) fields.Problem {
	switch {
	case !utf8.ValidString(v):
		return fields.New(fields.InvalidUTF8)
	case v == "" && required:
		return fields.New(fields.Required)
	case utf8.RuneCountInString(v) > limit:
		return fields.New(fields.TooLong, "max", limit)
	}
	for _, r := range v {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			if multiline {
				return fields.New(fields.ControlCharacters)
			}
			return fields.New(fields.SingleLine)
		}
		if !multiline && formatCharacter(r) {
			return fields.New(fields.FormatCharacters)
		}
	}
	return fields.Problem{}
}

// formatCharacter reports an invisible or direction-changing character
// (Unicode category Cf: U+202E, U+200B, U+FEFF, U+2066, …) that would let a
// subject or a name display as something else. Zero-width (non-)joiners
// stay allowed: Persian, Hindi and emoji sequences need them.
func formatCharacter(r rune) bool {
	return unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d'
}

// checkPhone accepts digits, spaces, "+", "-", "(" and ")", with 6 to 20
// digits: "+420 123 456 789", "(555) 123-4567". It returns the code of what
// is wrong, or "".
func checkPhone(v string) string {
	digits := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '+' || r == '-' || r == '(' || r == ')':
		default:
			return fields.PhoneCharacters
		}
	}
	if digits < 6 || digits > 20 {
		return fields.PhoneDigits
	}
	return ""
}

// isEmail accepts a plain address, local@domain: the local part of letters,
// digits and . _ + - ' (no quoting, no ?, %, &, =, which would turn a
// mailto: link into one with parameters, such as a Cc), the domain of
// letters, digits and hyphens in two or more dot-separated labels. It must
// also parse as an address (net/mail) and be nothing more.
func isEmail(v string) bool {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return false
	}
	local, domain, ok := strings.Cut(v, "@")
	if !ok || local == "" || strings.Contains(domain, "@") {
		return false
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	for _, r := range local {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(".+-_'", r) {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return false
		}
		for _, r := range l {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' {
				return false
			}
		}
	}
	return true
}

// DeploymentNone, as QueueFilter.Deployment, selects tickets that name no
// deployment (filed by e-mail or before the form asked).
const DeploymentNone Deployment = "none"

// OutsideBugPolicy reports whether a bug report from this deployment falls
// outside the support policy: a bug report is valid only for the cloud or
// a recommended installation on the customer's own server.
func (d Deployment) OutsideBugPolicy() bool { return d == DeploymentOther }
