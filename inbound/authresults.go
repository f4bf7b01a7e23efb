package inbound

import (
	"regexp"
	"strings"
)

// authMethod finds "method=result" in an Authentication-Results value
// (RFC 8601): spf=pass, dmarc=fail, ...
var authMethod = regexp.MustCompile(`(?i)(?:^|[;\s])(dmarc|spf|dkim|arc)\s*=\s*([a-z]+)`)

// AuthResult is the result ("pass", "fail", "softfail", "none", ...,
// lower-case) that the Authentication-Results value v records for method
// ("dmarc", "spf", "dkim"), "" when it records none. Comments in
// parentheses are ignored. With several results for the method, a "fail"
// wins: the mail did not pass all of them.
func AuthResult(v, method string) string {
	v = dropComments(v)
	// The first field is the authserv-id, never a result.
	if _, rest, ok := strings.Cut(v, ";"); ok {
		v = rest
	} else {
		return ""
	}
	var got string
	for _, m := range authMethod.FindAllStringSubmatch(v, -1) {
		if !strings.EqualFold(m[1], method) {
			continue
		}
		r := strings.ToLower(m[2])
		if got == "" || r == "fail" {
			got = r
		}
	}
	return got
}

// dropComments removes RFC 5322 comments "(...)", nested ones too.
func dropComments(v string) string {
	var b strings.Builder
	depth := 0
	for _, r := range v {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}
