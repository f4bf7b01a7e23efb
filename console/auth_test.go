package console

import (
	"strings"
	"testing"

	"github.com/orbitask/portal/staff"
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
		got := safeNext(next, staff.RoleOperator)
		if got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
		if strings.ContainsAny(got, "\r\n") {
			t.Errorf("safeNext(%q) = %q keeps a line break", next, got)
		}
	}
}

// Each role is sent home unless next is a page for it.
func TestSafeNextByRole(t *testing.T) {
	for _, c := range []struct {
		role       staff.Role
		next, want string
	}{
		{staff.RoleAgent, "/operator", "/agent"},
		{staff.RoleAgent, "/agent/tickets/7", "/agent/tickets/7"},
		{staff.RoleAgent, "/writer", "/agent"},
		{staff.RoleOperator, "/operator", "/operator"},
		{staff.RoleWriter, "", "/writer"},
		{staff.RoleWriter, "/agent", "/writer"},
		{staff.RoleWriter, "/operator", "/writer"},
		{staff.RoleWriter, "/writer", "/writer"},
		{staff.RoleWriter, "/writer/tokens", "/writer/tokens"},
		{staff.RoleOperator, "/writer/tokens", "/writer/tokens"},
		{staff.RoleWriter, "/agent/password", "/agent/password"},
		{staff.RoleWriter, "//evil.example/writer", "/writer"},
	} {
		if got := safeNext(c.next, c.role); got != c.want {
			t.Errorf("safeNext(%q, %s) = %q, want %q", c.next, c.role, got, c.want)
		}
	}
}
