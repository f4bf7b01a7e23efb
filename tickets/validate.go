package tickets

import (
	"fmt"
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
}

// Field limits, in characters.
const (
	maxShort       = 200    // name, company, subject
	maxEmail       = 254    // RFC 5321 path limit
	maxVersion     = 100    // product version
	maxEnvironment = 5000   // environment specification
	maxLong        = 20_000 // description, error messages, replies
	maxSession     = 128    // deflection session id
)

// ValidationError lists every field at fault, keyed by field name (the
// NewTicket field in snake case: "name", "email", "error_messages",
// "deflection_session", "attachments", and "body", "status" for replies and
// status changes). Nothing is stored when it is returned.
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
	bad := map[string]string{}
	c := checked{NewTicket: t}
	line := func(key string, v *string, required bool, limit int) {
		*v = strings.TrimSpace(*v)
		if msg := checkText(*v, required, limit, false); msg != "" {
			bad[key] = msg
		}
	}
	text := func(key string, v *string, required bool, limit int) {
		*v = strings.TrimSpace(*v)
		if msg := checkText(*v, required, limit, true); msg != "" {
			bad[key] = msg
		}
	}
	line("name", &c.Name, true, maxShort)
	line("company", &c.Company, true, maxShort)
	line("phone", &c.Phone, true, 40)
	if _, ok := bad["phone"]; !ok {
		if msg := checkPhone(c.Phone); msg != "" {
			bad["phone"] = msg
		}
	}
	line("email", &c.Email, true, maxEmail)
	if _, ok := bad["email"]; !ok && !isEmail(c.Email) {
		bad["email"] = "not an e-mail address"
	}
	line("subject", &c.Subject, true, maxShort)
	text("description", &c.Description, true, maxLong)
	if c.Severity < 1 || c.Severity > 4 {
		bad["severity"] = "must be 1, 2, 3 or 4"
	}
	line("version", &c.Version, false, maxVersion)
	text("environment", &c.Environment, false, maxEnvironment)
	text("error_messages", &c.ErrorMessages, false, maxLong)
	switch c.Deployment {
	case "", DeploymentCloud, DeploymentOwnServer, DeploymentOther:
	default:
		bad["deployment"] = "must be cloud, own-server or other"
	}
	line("deflection_session", &c.DeflectionSession, false, maxSession)
	if c.Lang = strings.TrimSpace(c.Lang); c.Lang != "" {
		if l, ok := langtag.Normalize(c.Lang); ok {
			c.lang = l
		} else {
			bad["lang"] = "not a language code (such as en, fr, de, cs)"
		}
	}
	atts, msg := checkAttachments(t.Attachments)
	if msg != "" {
		bad["attachments"] = msg
	}
	c.attachments = atts
	if len(bad) > 0 {
		return checked{}, &ValidationError{Fields: bad}
	}
	if c.lang == "" {
		c.lang = idx.detectLang(c.Subject + "\n" + c.Description)
	}
	return c, nil
}

// checkText returns what is wrong with a text field, or "". Single-line
// fields refuse all control characters; multi-line ones allow newlines and
// tabs.
func checkText(v string, required bool, limit int, multiline bool) string {
	switch {
	case !utf8.ValidString(v):
		return "not valid UTF-8 text"
	case v == "" && required:
		return "required"
	case utf8.RuneCountInString(v) > limit:
		return fmt.Sprintf("at most %d characters", limit)
	}
	for _, r := range v {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			if multiline {
				return "contains control characters"
			}
			return "must be a single line of text"
		}
	}
	return ""
}

// checkPhone accepts digits, spaces, "+", "-", "(" and ")", with 6 to 20
// digits: "+420 123 456 789", "(555) 123-4567".
func checkPhone(v string) string {
	digits := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '+' || r == '-' || r == '(' || r == ')':
		default:
			return "only digits, spaces, +, -, ( and ) are allowed"
		}
	}
	if digits < 6 || digits > 20 {
		return "must have 6 to 20 digits"
	}
	return ""
}

// isEmail accepts a bare address (no display name, no angle brackets) that
// net/mail parses, whose domain has a dot that neither starts nor ends it.
func isEmail(v string) bool {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(v, '@')
	if at <= 0 {
		return false
	}
	domain := v[at+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") &&
		!strings.Contains(domain, "..") && !strings.ContainsAny(domain, "[]")
}
