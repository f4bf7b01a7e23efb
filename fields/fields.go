// Package fields is the error for input that is refused field by field:
// every domain package reports bad input with it, and the HTTP layer turns it
// into one 422 answer naming the fields.
//
// What is wrong with a field is a Problem: a machine code (the constants
// below) and its parameters. Pages translate the code; Message gives the
// English text, which the JSON API and the command line show.
package fields

import (
	"fmt"
	"sort"
	"strings"
)

// The codes, with the parameters each carries and its English message.
const (
	// Text and choices of a new ticket (and a reply's body).
	Required          = "required"           // required
	InvalidUTF8       = "invalid_utf8"       // not valid UTF-8 text
	TooLong           = "too_long"           // at most {max} characters
	ControlCharacters = "control_characters" // contains control characters
	SingleLine        = "single_line"        // must be a single line of text
	FormatCharacters  = "format_characters"  // invisible or direction-changing characters
	PhoneCharacters   = "phone_characters"   // only digits, spaces, +, -, ( and ) are allowed
	PhoneDigits       = "phone_digits"       // must have 6 to 20 digits
	Email             = "email"              // not an e-mail address
	Severity          = "severity"           // must be 1, 2, 3 or 4
	Deployment        = "deployment"         // must be cloud, own-server or other
	Lang              = "lang"               // not a language code (such as en, fr, de, cs)
	IdempotencyKey    = "idempotency_key"    // must be {min} to {max} visible ASCII characters

	// Attachments. Problems with single files are collected in one Files
	// problem, each with the file's name.
	TooManyFiles = "too_many_files" // at most {max} files
	Files        = "files"          // Problem.Files: each file's problem, "; " between them
	FileEmpty    = "file_empty"     // NAME: the file is empty
	FileTooLarge = "file_too_large" // NAME: larger than {max_mb} MiB
	FileType     = "file_type"      // NAME: not an allowed type (text, log, JSON, ZIP, gzip, PNG, JPEG, GIF or PDF)

	// Changes to a ticket (the agent console and API, the command line).
	Status          = "status"            // must be new, open, waiting, solved or closed
	SameStatus      = "same_status"       // the ticket is already {status}
	AgentSeverity   = "agent_severity"    // must be 1 (urgent), 2 (high), 3 (normal) or 4 (low)
	SameSeverity    = "same_severity"     // the ticket is already severity {severity}
	CallNotInternal = "call_not_internal" // a call is recorded as an internal note
	Assignee        = "assignee"          // must be me, none, an agent's id or e-mail
	MissingAssignee = "missing_assignee"  // is required: me, none, null, an agent's id or e-mail
	NoActiveAgent   = "no_active_agent"   // no active agent {value}
	UnknownAgent    = "unknown_agent"     // unknown agent
	SameAssignee    = "same_assignee"     // the ticket is already assigned so

	// Staff accounts (the command line, the console's password page). Some
	// repeat a check above in the staff commands' words ("is required"), so
	// they have codes of their own: one code, one English message.
	StaffRequired     = "staff_required"     // is required
	StaffEmail        = "staff_email"        // must be an email address such as jana@example.com
	StaffTooLong      = "staff_too_long"     // must be at most {max} characters
	Role              = "role"               // must be agent, operator or writer
	EmailTaken        = "email_taken"        // is already used by another account
	AccountDisabled   = "account_disabled"   // this account is disabled
	AlreadyDisabled   = "already_disabled"   // this account is already disabled
	PasswordTooShort  = "password_too_short" // must be at least {min} characters
	PasswordTooLong   = "password_too_long"  // must be at most {max} bytes
	PasswordUnchanged = "password_unchanged" // must differ from the current password
	WrongPassword     = "wrong_password"     // is not your current password
	ActionLength      = "action_length"      // must be 1 to {max} characters

	// Periods of the operators' figures (?from=&to=).
	Date          = "date"            // must be a date (YYYY-MM-DD) or a time (RFC 3339)
	DateOrder     = "date_order"      // the period would end before it starts
	PeriodTooLong = "period_too_long" // params: max (days)

	// Server-support credit (package credit).
	CreditMinutes    = "credit_minutes"     // must be {min} to {max} minutes
	CreditFirstTopUp = "credit_first_topup" // the first top-up must be at least {min} minutes
	CreditFuture     = "credit_future"      // must be in the future
	CreditStatus     = "credit_status"      // the session is {status}
	CreditNotStarted = "credit_not_started" // the session has not started yet
	CreditBelowZero  = "credit_below_zero"  // would take the balance below zero ({balance} minutes)
)

// Params are a problem's parameters by name ("max": 200). The names "code",
// "name" and "files" are not used, so that the JSON API can put the
// parameters next to them.
type Params map[string]any

// Int is the parameter name as a whole number (0 when absent).
func (p Params) Int(name string) int {
	switch v := p[name].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return 0
}

// String is the parameter name as text.
func (p Params) String(name string) string {
	if v, ok := p[name]; ok {
		return fmt.Sprint(v)
	}
	return ""
}

// Problem is what is wrong with one field.
type Problem struct {
	Code   string
	Params Params        // nil when the code has none
	Files  []FileProblem // for Files: one entry per file at fault, in order
}

// FileProblem is what is wrong with one file of a Files problem.
type FileProblem struct {
	Name   string // as the file will be stored
	Code   string // FileEmpty, FileTooLarge or FileType
	Params Params
}

// New is a problem with its parameters given as name/value pairs:
// New(TooLong, "max", 200).
func New(code string, params ...any) Problem {
	return Problem{Code: code, Params: pairs(params)}
}

// NewFile is a file's problem, with parameters as for New.
func NewFile(name, code string, params ...any) FileProblem {
	return FileProblem{Name: name, Code: code, Params: pairs(params)}
}

// ForFiles gathers the problems of single files into one Files problem.
func ForFiles(files ...FileProblem) Problem {
	return Problem{Code: Files, Files: files}
}

func pairs(kv []any) Params {
	if len(kv) < 2 {
		return nil
	}
	p := Params{}
	for i := 0; i+1 < len(kv); i += 2 {
		p[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return p
}

// Message is the problem in English, as the JSON API's "fields" and the
// command line show it.
func (p Problem) Message() string {
	if p.Code == Files {
		parts := make([]string, len(p.Files))
		for i, f := range p.Files {
			parts[i] = f.Message()
		}
		return strings.Join(parts, "; ")
	}
	return message(p.Code, p.Params)
}

// Message is the file's problem in English, after its name: "a.txt: the
// file is empty".
func (f FileProblem) Message() string {
	return f.Name + ": " + message(f.Code, f.Params)
}

func message(code string, p Params) string {
	switch code {
	case Required:
		return "required"
	case InvalidUTF8:
		return "not valid UTF-8 text"
	case TooLong:
		return fmt.Sprintf("at most %d characters", p.Int("max"))
	case ControlCharacters:
		return "contains control characters"
	case SingleLine:
		return "must be a single line of text"
	case FormatCharacters:
		return "contains invisible or direction-changing characters"
	case PhoneCharacters:
		return "only digits, spaces, +, -, ( and ) are allowed"
	case PhoneDigits:
		return "must have 6 to 20 digits"
	case Email:
		return "not an e-mail address"
	case Severity:
		return "must be 1, 2, 3 or 4"
	case Deployment:
		return "must be cloud, own-server or other"
	case Lang:
		return "not a language code (such as en, fr, de, cs)"
	case IdempotencyKey:
		return fmt.Sprintf("must be %d to %d visible ASCII characters", p.Int("min"), p.Int("max"))
	case TooManyFiles:
		return fmt.Sprintf("at most %d files", p.Int("max"))
	case FileEmpty:
		return "the file is empty"
	case FileTooLarge:
		return fmt.Sprintf("larger than %d MiB", p.Int("max_mb"))
	case FileType:
		return "not an allowed type (text, log, JSON, ZIP, gzip, PNG, JPEG, GIF or PDF)"
	case Status:
		return "must be new, open, waiting, solved or closed"
	case SameStatus:
		return "the ticket is already " + p.String("status")
	case AgentSeverity:
		return "must be 1 (urgent), 2 (high), 3 (normal) or 4 (low)"
	case SameSeverity:
		return fmt.Sprintf("the ticket is already severity %d", p.Int("severity"))
	case CallNotInternal:
		return "a call is recorded as an internal note"
	case Assignee:
		return "must be me, none, an agent's id or e-mail"
	case MissingAssignee:
		return "is required: me, none, null, an agent's id or e-mail"
	case NoActiveAgent:
		return "no active agent " + p.String("value")
	case UnknownAgent:
		return "unknown agent"
	case SameAssignee:
		return "the ticket is already assigned so"
	case StaffRequired:
		return "is required"
	case StaffEmail:
		return "must be an email address such as jana@example.com"
	case StaffTooLong:
		return fmt.Sprintf("must be at most %d characters", p.Int("max"))
	case Role:
		return "must be agent, operator or writer"
	case EmailTaken:
		return "is already used by another account"
	case AccountDisabled:
		return "this account is disabled"
	case AlreadyDisabled:
		return "this account is already disabled"
	case PasswordTooShort:
		return fmt.Sprintf("must be at least %d characters", p.Int("min"))
	case PasswordTooLong:
		return fmt.Sprintf("must be at most %d bytes", p.Int("max"))
	case PasswordUnchanged:
		return "must differ from the current password"
	case WrongPassword:
		return "is not your current password"
	case ActionLength:
		return fmt.Sprintf("must be 1 to %d characters", p.Int("max"))
	case Date:
		return "must be a date (YYYY-MM-DD) or a time (RFC 3339)"
	case DateOrder:
		return "the period would end before it starts"
	case PeriodTooLong:
		return fmt.Sprintf("the period may be at most %d days long", p.Int("max"))
	case CreditMinutes:
		return fmt.Sprintf("must be %d to %d minutes", p.Int("min"), p.Int("max"))
	case CreditFirstTopUp:
		return fmt.Sprintf("the first top-up must be at least %d minutes", p.Int("min"))
	case CreditFuture:
		return "must be in the future"
	case CreditStatus:
		return "the session is " + p.String("status")
	case CreditNotStarted:
		return "the session has not started yet"
	case CreditBelowZero:
		return fmt.Sprintf("would take the balance below zero (%d minutes)", p.Int("balance"))
	}
	return code
}

// Error lists every field at fault with what is wrong with it, keyed by the
// field's name as the caller knows it (a form field, a JSON key). Nothing is
// stored when it is returned.
type Error struct {
	Fields map[string]Problem
}

// Invalid is an Error for one field, with parameters as for New.
func Invalid(field, code string, params ...any) *Error {
	return &Error{Fields: map[string]Problem{field: New(code, params...)}}
}

// Add records a problem with field, with parameters as for New.
func (e *Error) Add(field, code string, params ...any) {
	e.Set(field, New(code, params...))
}

// Set records p as the problem with field.
func (e *Error) Set(field string, p Problem) {
	if e.Fields == nil {
		e.Fields = map[string]Problem{}
	}
	e.Fields[field] = p
}

// Has reports whether field has a problem.
func (e *Error) Has(field string) bool {
	_, ok := e.Fields[field]
	return ok
}

// Messages are the problems in English by field.
func (e *Error) Messages() map[string]string {
	out := make(map[string]string, len(e.Fields))
	for k, p := range e.Fields {
		out[k] = p.Message()
	}
	return out
}

// Error names every field at fault, in order, with its English message.
func (e *Error) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k].Message()
	}
	return "invalid: " + strings.Join(parts, "; ")
}
