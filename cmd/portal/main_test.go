package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckReportsProblemsWithFileAndLine(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"en/good.md":     "---\ntitle: Good\n---\nSee [bad](bad.md).\n",
		"en/bad.md":      "---\ntitle: Bad\nlang: english\n---\n",
		"en/no-title.md": "---\ntags: [x]\n---\nBody\n",
		"en/link.md":     "---\ntitle: Link\n---\n\n[gone](gone.md)\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	code, out, _ := runCmd("check", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{
		filepath.Join(dir, "en/bad.md") + `:3: unknown language "english"`,
		filepath.Join(dir, "en/no-title.md") + ":1: missing title in front matter",
		filepath.Join(dir, "en/link.md") + `:5: broken link to "gone.md": no such article`,
	} {
		if !strings.Contains(out, want+"") {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if got := strings.Count(out, "\n"); got != 3 {
		t.Errorf("%d lines, want one per problem (3):\n%s", got, out)
	}
}

func TestCheckBundledContentIsClean(t *testing.T) {
	code, out, errs := runCmd("check", "../../content")
	if code != 0 {
		t.Fatalf("bundled content has problems (exit %d):\n%s%s", code, out, errs)
	}
	if !strings.HasPrefix(out, "ok: ") || strings.Count(out, "\n") != 1 {
		t.Errorf("summary = %q, want one ok line", out)
	}
}

func TestCheckUsage(t *testing.T) {
	if code, _, _ := runCmd("check"); code != 2 {
		t.Errorf("check without DIR: exit %d, want 2", code)
	}
	if code, _, errs := runCmd("check", filepath.Join(t.TempDir(), "missing")); code != 2 || !strings.Contains(errs, "missing") {
		t.Errorf("check missing dir: exit %d, %q", code, errs)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"serve", "--help"}, {"-h"}} {
		code, out, _ := runCmd(args...)
		if code != 0 || !strings.Contains(out, "portal check DIR") || !strings.Contains(out, "PORTAL_CONTENT") {
			t.Errorf("%v: exit %d, output %q", args, code, out)
		}
	}
	if code, _, errs := runCmd("frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %q", code, errs)
	}
}

func TestServeFlagsAndEnvironment(t *testing.T) {
	t.Setenv("PORTAL_ADDR", "")
	t.Setenv("PORTAL_CONTENT", "")
	t.Setenv("PORTAL_DATA", "")
	t.Setenv("PORTAL_SEARCH_CACHE", "")
	t.Setenv("PORTAL_UPLOAD_MEMORY", "")
	t.Setenv("PORTAL_RATE_LIMITS", "")
	cfg, err := parseServe(nil, nil)
	if err != nil || cfg.Addr != "127.0.0.1:8080" || cfg.Content != "./content" || cfg.Data != "./data" || cfg.SearchCache != 4096 ||
		cfg.UploadMemoryMiB != 128 || cfg.RateLimitsOff {
		t.Fatalf("defaults = %+v, %v", cfg, err)
	}
	t.Setenv("PORTAL_ADDR", "0.0.0.0:9000")
	t.Setenv("PORTAL_DATA", "/var/lib/portal")
	cfg, err = parseServe([]string{"--addr", "127.0.0.1:9001", "--log-level", "debug"}, nil)
	if err != nil || cfg.Addr != "127.0.0.1:9001" || cfg.Data != "/var/lib/portal" || cfg.LogLevel.String() != "DEBUG" {
		t.Fatalf("flag must win over environment, environment over default: %+v, %v", cfg, err)
	}
	t.Setenv("PORTAL_UPLOAD_MEMORY", "64")
	if cfg, err = parseServe(nil, nil); err != nil || cfg.UploadMemoryMiB != 64 {
		t.Fatalf("PORTAL_UPLOAD_MEMORY=64: %+v, %v", cfg, err)
	}
	// Rate limits: on unless turned off, by flag or environment.
	if cfg, err := parseServe([]string{"--rate-limits", "off"}, nil); err != nil || !cfg.RateLimitsOff {
		t.Errorf("--rate-limits off: %+v, %v", cfg, err)
	}
	t.Setenv("PORTAL_RATE_LIMITS", "off")
	if cfg, err := parseServe(nil, nil); err != nil || !cfg.RateLimitsOff {
		t.Errorf("PORTAL_RATE_LIMITS=off: %+v, %v", cfg, err)
	}
	if cfg, err := parseServe([]string{"--rate-limits", "on"}, nil); err != nil || cfg.RateLimitsOff {
		t.Errorf("--rate-limits on over PORTAL_RATE_LIMITS=off: %+v, %v", cfg, err)
	}
	for _, bad := range [][]string{{"--log-level", "loud"}, {"--search-cache", "-1"}, {"--upload-memory", "0"}, {"--nope"}, {"extra"}, {"--rate-limits", "no"}} {
		if _, err := parseServe(bad, nil); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	for bad, want := range map[string][]string{
		"--smtp-url":  {"--smtp-url", "ftp://mail.example", "--mail-from", "support@example.com"},
		"--mail-from": {"--smtp-url", "smtp://mail.example:587?tls=starttls"},
	} {
		if _, err := parseServe(want, nil); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%v: %v, want an error naming %s", want, err, bad)
		}
	}
	if cfg, err := parseServe([]string{"--smtp-url", "smtp://u:p@mail.example:587?tls=starttls", "--mail-from", "support@example.com",
		"--public-url", "https://help.example"}, nil); err != nil || cfg.SMTPURL == "" || cfg.PublicURL != "https://help.example" {
		t.Errorf("mail settings: %+v, %v", cfg, err)
	}
	t.Setenv("PORTAL_SEARCH_CACHE", "many")
	if _, err := parseServe(nil, nil); err == nil || !strings.Contains(err.Error(), "PORTAL_SEARCH_CACHE") {
		t.Errorf("bad PORTAL_SEARCH_CACHE: %v", err)
	}
}

func TestTicketCommand(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := tickets.Open(tickets.Config{DB: db, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	tk, token, err := store.File(context.Background(), tickets.NewTicket{Name: "Jana", Company: "Acme", Phone: "+420 601 555 010",
		Email: "jana@acme.example", Subject: "Export fails", Description: "The export stops.", Severity: 3})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	num := strconv.Itoa(tk.Number)

	if code, out, errs := runCmd("ticket", "status", num, "open", "--data", dir); code != 0 || !strings.Contains(out, "status open") {
		t.Fatalf("status: exit %d %q %q", code, out, errs)
	}
	if code, out, errs := runCmd("ticket", "reply", "#"+num, "Please send the log.", "--data", dir); code != 0 || !strings.Contains(out, "reply added") {
		t.Fatalf("reply: exit %d %q %q", code, out, errs)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"ticket", "status", num, "done", "--data", dir}, 2, "status"},
		{[]string{"ticket", "status", "99999", "open", "--data", dir}, 1, "not found"},
		{[]string{"ticket", "status", "abc", "open", "--data", dir}, 2, "not a ticket number"},
		{[]string{"ticket", "frob", num, "x", "--data", dir}, 2, "usage"},
	} {
		if code, _, errs := runCmd(c.args...); code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, errs, c.code, c.msg)
		}
	}

	db, _ = sqlitedb.Open(filepath.Join(dir, "portal.db"))
	defer db.Close()
	store, _ = tickets.Open(tickets.Config{DB: db, DataDir: dir})
	got, err := store.Get(context.Background(), tk.Number, token)
	if err != nil || got.Status != tickets.StatusOpen || len(got.Messages) != 2 || got.Messages[1].Author != tickets.ActorSupport {
		t.Fatalf("after the commands: %+v, %v", got, err)
	}
}

// The data directory and the files holding tickets and staff data are the
// owner's only, whatever the umask.
func TestDataFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	data := filepath.Join(t.TempDir(), "data")
	var out, errb strings.Builder
	if code := run([]string{"user", "add", "--email", "a@orbitask.example", "--name", "A", "--role", "agent", "--data", data}, &out, &errb); code != 0 {
		t.Fatalf("user add: %d %s", code, errb.String())
	}
	for path, want := range map[string]os.FileMode{data: 0o700, filepath.Join(data, "portal.db"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
	for _, f := range []string{"-wal", "-shm"} {
		if fi, err := os.Stat(filepath.Join(data, "portal.db"+f)); err == nil && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("portal.db%s: mode %o, want the owner's only", f, fi.Mode().Perm())
		}
	}
}

func TestSearchWarmFlagAndEnvironment(t *testing.T) {
	t.Setenv("PORTAL_SEARCH_WARM", "")
	if cfg, err := parseServe(nil, nil); err != nil || cfg.SearchWarm != 200 {
		t.Fatalf("default: %d %v, want 200", cfg.SearchWarm, err)
	}
	t.Setenv("PORTAL_SEARCH_WARM", "0")
	if cfg, err := parseServe(nil, nil); err != nil || cfg.SearchWarm != 0 {
		t.Fatalf("off from the environment: %d %v", cfg.SearchWarm, err)
	}
	if cfg, err := parseServe([]string{"--search-warm", "50"}, nil); err != nil || cfg.SearchWarm != 50 {
		t.Fatalf("the flag wins: %d %v", cfg.SearchWarm, err)
	}
	if _, err := parseServe([]string{"--search-warm", "-1"}, nil); err == nil {
		t.Error("a negative count accepted")
	}
	t.Setenv("PORTAL_SEARCH_WARM", "many")
	if _, err := parseServe(nil, nil); err == nil || !strings.Contains(err.Error(), "PORTAL_SEARCH_WARM") {
		t.Errorf("a bad environment value: %v", err)
	}
}
