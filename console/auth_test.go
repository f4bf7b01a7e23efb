package console

import (
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"":                                     "/agent",
		"/agent":                               "/agent",
		"/agent/tickets/1001":                  "/agent/tickets/1001",
		"/agent?plan=basic&severity=3":         "/agent?plan=basic&severity=3",
		"/operator":                            "/operator",
		"//evil.example/agent":                 "/agent",
		"https://evil.example/agent":           "/agent",
		"/agent\r\nSet-Cookie: portal_staff=x": "/agent",
		"/agent%0d%0aSet-Cookie:%20a=b":        "/agent",
		"/agentx":                              "/agent",
		"/agent/../tickets/new":                "/agent",
		"/\\evil.example":                      "/agent",
		"/agent/tickets/1001?x=%22%3E%3Cscript%3E": "/agent/tickets/1001?x=%22%3E%3Cscript%3E",
	} {
		got := safeNext(next)
		if got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
		if strings.ContainsAny(got, "\r\n") {
			t.Errorf("safeNext(%q) = %q keeps a line break", next, got)
		}
	}
}
