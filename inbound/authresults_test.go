package inbound_test

import (
	"testing"

	"github.com/orbitask/portal/inbound"
)

// TestAuthResult reads the results of the topmost Authentication-Results
// header as mail servers write them.
func TestAuthResult(t *testing.T) {
	m, err := inbound.Parse([]byte("Authentication-Results: mx.help.example;\r\n\tspf=fail (sender IP is 203.0.113.9; dmarc=pass in a comment) smtp.mailfrom=gmail.example;\r\n\tdkim=none; dmarc=fail action=none header.from=gmail.example\r\n"+
		"Authentication-Results: evil.example; dmarc=pass; spf=pass\r\n"+
		"From: victim@gmail.example\r\nTo: support@help.example\r\nSubject: x\r\n\r\nhello\r\n"), "x@evil.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ v, method, want string }{
		{m.AuthResults, "dmarc", "fail"},
		{m.AuthResults, "spf", "fail"},
		{m.AuthResults, "dkim", "none"},
		{"mx.example; spf=pass smtp.mailfrom=a.example; dmarc=pass header.from=a.example", "dmarc", "pass"},
		{"mx.example; dkim=pass header.d=a.example; dkim=fail header.d=b.example", "dkim", "fail"},
		{"mx.example; none", "dmarc", ""},
		{"dmarc=pass", "dmarc", ""}, // no authserv-id: not a result
		{"", "spf", ""},
	} {
		if got := inbound.AuthResult(c.v, c.method); got != c.want {
			t.Errorf("AuthResult(%q, %s) = %q, want %q", c.v, c.method, got, c.want)
		}
	}
}
