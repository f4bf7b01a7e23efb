package fields

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// TestMessages gives every code's English message, word for word: these are
// what the JSON API's "fields" and the command line have always said.
func TestMessages(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{New(Required), "required"},
		{New(InvalidUTF8), "not valid UTF-8 text"},
		{New(TooLong, "max", 200), "at most 200 characters"},
		{New(ControlCharacters), "contains control characters"},
		{New(SingleLine), "must be a single line of text"},
		{New(FormatCharacters), "contains invisible or direction-changing characters"},
		{New(PhoneCharacters), "only digits, spaces, +, -, ( and ) are allowed"},
		{New(PhoneDigits), "must have 6 to 20 digits"},
		{New(Email), "not an e-mail address"},
		{New(Severity), "must be 1, 2, 3 or 4"},
		{New(Deployment), "must be cloud, own-server or other"},
		{New(Lang), "not a language code (such as en, fr, de, cs)"},
		{New(IdempotencyKey, "min", 16, "max", 255), "must be 16 to 255 visible ASCII characters"},
		{New(TooManyFiles, "max", 5), "at most 5 files"},
		{ForFiles(NewFile("a.txt", FileEmpty)), "a.txt: the file is empty"},
		{ForFiles(NewFile("big.zip", FileTooLarge, "max_mb", 10)), "big.zip: larger than 10 MiB"},
		{ForFiles(NewFile("b.exe", FileType)), "b.exe: not an allowed type (text, log, JSON, ZIP, gzip, PNG, JPEG, GIF or PDF)"},
		{ForFiles(NewFile("a.txt", FileTooLarge, "max_mb", 10), NewFile("b.exe", FileType)),
			"a.txt: larger than 10 MiB; b.exe: not an allowed type (text, log, JSON, ZIP, gzip, PNG, JPEG, GIF or PDF)"},
		{New(Status), "must be new, open, waiting, solved or closed"},
		{New(SameStatus, "status", "open"), "the ticket is already open"},
		{New(AgentSeverity), "must be 1 (urgent), 2 (high), 3 (normal) or 4 (low)"},
		{New(SameSeverity, "severity", 2), "the ticket is already severity 2"},
		{New(CallNotInternal), "a call is recorded as an internal note"},
		{New(Assignee), "must be me, none, an agent's id or e-mail"},
		{New(MissingAssignee), "is required: me, none, null, an agent's id or e-mail"},
		{New(NoActiveAgent, "value", "bob@example.com"), "no active agent bob@example.com"},
		{New(UnknownAgent), "unknown agent"},
		{New(SameAssignee), "the ticket is already assigned so"},
		{New(StaffRequired), "is required"},
		{New(StaffEmail), "must be an email address such as jana@example.com"},
		{New(StaffTooLong, "max", 254), "must be at most 254 characters"},
		{New(Role), "must be agent, operator or writer"},
		{New(EmailTaken), "is already used by another account"},
		{New(AccountDisabled), "this account is disabled"},
		{New(AlreadyDisabled), "this account is already disabled"},
		{New(PasswordTooShort, "min", 12), "must be at least 12 characters"},
		{New(PasswordTooLong, "max", 1024), "must be at most 1024 bytes"},
		{New(PasswordUnchanged), "must differ from the current password"},
		{New(WrongPassword), "is not your current password"},
		{New(ActionLength, "max", 64), "must be 1 to 64 characters"},
		{New(Date), "must be a date (YYYY-MM-DD) or a time (RFC 3339)"},
		{New(DateOrder), "the period would end before it starts"},
		{New(PeriodTooLong, "max", 366), "the period may be at most 366 days long"},
		{New(CreditMinutes, "min", 10, "max", 600000), "must be 10 to 600000 minutes"},
		{New(CreditFirstTopUp, "min", 480), "the first top-up must be at least 480 minutes"},
		{New(CreditFuture), "must be in the future"},
		{New(CreditStatus, "status", "cancelled"), "the session is cancelled"},
		{New(CreditNotStarted), "the session has not started yet"},
		{New(CreditBelowZero, "balance", 30), "would take the balance below zero (30 minutes)"},
	}
	tested := map[string]bool{}
	for _, tt := range tests {
		if got := tt.p.Message(); got != tt.want {
			t.Errorf("%s: Message() = %q, want %q", tt.p.Code, got, tt.want)
		}
		tested[tt.p.Code] = true
		for _, f := range tt.p.Files {
			tested[f.Code] = true
		}
	}
	for _, code := range declaredCodes(t) {
		if !tested[code] {
			t.Errorf("code %q has no case here", code)
		}
	}
	if got := New("brand_new").Message(); got != "brand_new" {
		t.Errorf("an unknown code says %q, want the code itself", got)
	}
}

// declaredCodes are the string constants of fields.go.
func declaredCodes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "fields.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	ast.Inspect(f, func(n ast.Node) bool {
		if d, ok := n.(*ast.GenDecl); ok && d.Tok == token.CONST {
			for _, spec := range d.Specs {
				for _, v := range spec.(*ast.ValueSpec).Values {
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						codes = append(codes, s)
					}
				}
			}
		}
		return true
	})
	if len(codes) < 30 {
		t.Fatalf("found only %d codes in fields.go", len(codes))
	}
	return codes
}

func TestError(t *testing.T) {
	e := &Error{}
	if e.Has("subject") {
		t.Error("an empty Error has a field")
	}
	e.Add("subject", TooLong, "max", 200)
	e.Add("email", Email)
	e.Set("attachments", ForFiles(NewFile("a.txt", FileEmpty)))
	if !e.Has("subject") || e.Fields["subject"].Params.Int("max") != 200 {
		t.Errorf("Fields = %v", e.Fields)
	}
	want := "invalid: attachments: a.txt: the file is empty; email: not an e-mail address; subject: at most 200 characters"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := e.Messages(); len(got) != 3 || got["email"] != "not an e-mail address" {
		t.Errorf("Messages() = %v", got)
	}
	var err error = Invalid("status", SameStatus, "status", "open")
	var fe *Error
	if !errors.As(err, &fe) || fe.Fields["status"].Params.String("status") != "open" || err.Error() != "invalid: status: the ticket is already open" {
		t.Errorf("Invalid gave %v", err)
	}
}
