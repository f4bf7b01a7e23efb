package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// staffCmd runs userCommand or tokenCommand.
func staffCmd(cmd func([]string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cmd(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUserAndTokenCommands(t *testing.T) {
	t.Setenv("USER", "admin")
	data := filepath.Join(t.TempDir(), "data") // does not exist yet: add creates it

	code, out, errs := staffCmd(userCommand, "add", "--email", "Jana@Example.com", "--name", "Jana Nováková", "--role", "operator", "--data", data)
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, errs)
	}
	m := regexp.MustCompile(`one-time password: (\S{20})\n`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "jana@example.com") || !strings.Contains(out, "not be shown again") || !strings.Contains(out, "changed at first login") {
		t.Errorf("add printed:\n%s", out)
	}
	staffCmd(userCommand, "add", "--email", "w@example.com", "--name", "Writer", "--role", "writer", "--data", data)

	code, out, _ = staffCmd(userCommand, "list", "--data", data)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "EMAIL") ||
		!regexp.MustCompile(`^jana@example.com +Jana Nováková +operator +active +never$`).MatchString(lines[1]) ||
		!strings.HasPrefix(lines[2], "w@example.com") {
		t.Errorf("list: exit %d:\n%s", code, out)
	}

	code, out, errs = staffCmd(tokenCommand, "create", "--email", "jana@example.com", "--name", "ci", "--data", data)
	if code != 0 || !regexp.MustCompile(`^ob_pat_[A-Za-z0-9_-]{43}\n$`).MatchString(out) || !strings.Contains(errs, "not be shown again") {
		t.Errorf("token create: exit %d: %q %q", code, out, errs)
	}

	if code, out, errs = staffCmd(userCommand, "disable", "--email", "w@example.com", "--data", data); code != 0 || !strings.Contains(out, "disabled w@example.com") {
		t.Errorf("disable: exit %d: %s%s", code, out, errs)
	}
	if _, out, _ = staffCmd(userCommand, "list", "--data", data); !regexp.MustCompile(`w@example.com +Writer +writer +disabled`).MatchString(out) {
		t.Errorf("list after disable:\n%s", out)
	}
	if code, _, errs = staffCmd(tokenCommand, "create", "--email", "w@example.com", "--data", data); code == 0 || !strings.Contains(errs, "--email: ") {
		t.Errorf("token for a disabled account: exit %d: %s", code, errs)
	}
}

func TestUserCommandErrors(t *testing.T) {
	data := t.TempDir()
	staffCmd(userCommand, "add", "--email", "a@example.com", "--name", "A", "--role", "agent", "--data", data)
	for _, tc := range []struct {
		name string
		cmd  func([]string, io.Writer, io.Writer) int
		args []string
		code int
		want []string // in stderr
	}{
		{"no subcommand", userCommand, nil, 2, []string{"usage: portal user add"}},
		{"unknown subcommand", userCommand, []string{"remove"}, 2, []string{`unknown subcommand "remove"`}},
		{"bad flag", userCommand, []string{"add", "--mail", "x", "--data", data}, 2, []string{"-mail"}},
		{"stray argument", userCommand, []string{"list", "extra", "--data", data}, 2, []string{`unexpected argument "extra"`}},
		{"invalid add", userCommand, []string{"add", "--email", "nope", "--role", "admin", "--data", data}, 2,
			[]string{"--email: must be an email address", "--name: is required", "--role: must be agent, operator or writer"}},
		{"duplicate", userCommand, []string{"add", "--email", "A@example.com", "--name", "A", "--role", "agent", "--data", data}, 2,
			[]string{"--email: is already used"}},
		{"disable without email", userCommand, []string{"disable", "--data", data}, 2, []string{"--email is required"}},
		{"disable unknown", userCommand, []string{"disable", "--email", "b@example.com", "--data", data}, 1, []string{"no staff account with that --email"}},
		{"missing data dir", userCommand, []string{"list", "--data", filepath.Join(data, "nowhere")}, 1, []string{"no database at"}},
		{"token without email", tokenCommand, []string{"create", "--data", data}, 2, []string{"--email is required"}},
		{"token unknown email", tokenCommand, []string{"create", "--email", "b@example.com", "--data", data}, 1, []string{"no staff account"}},
		{"token unknown subcommand", tokenCommand, []string{"revoke"}, 2, []string{`unknown subcommand "revoke"`}},
	} {
		code, _, errs := staffCmd(tc.cmd, tc.args...)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d (%s)", tc.name, code, tc.code, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.name, w, errs)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(data, "nowhere")); err == nil {
		t.Error("list created a data directory")
	}
	if code, out, _ := staffCmd(userCommand, "add", "--help"); code != 0 || !strings.Contains(out, "usage: portal user") {
		t.Errorf("help: exit %d: %s", code, out)
	}
}

func TestUserCommandUsesPortalData(t *testing.T) {
	data := t.TempDir()
	t.Setenv("PORTAL_DATA", data)
	if code, _, errs := staffCmd(userCommand, "add", "--email", "a@example.com", "--name", "A", "--role", "writer"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(data, "portal.db")); err != nil {
		t.Error(err)
	}
}
