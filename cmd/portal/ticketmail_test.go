package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

// TestTicketCommandMails: `portal ticket reply` and `status solved` write
// the customer's mails into the outbox, as an agent's changes do, when
// PORTAL_PUBLIC_URL says where the links go; without it, stderr says none.
func TestTicketCommandMails(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := tickets.Open(tickets.Config{DB: db, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	tk, _, err := store.File(context.Background(), tickets.NewTicket{Name: "Jana", Company: "Acme", Phone: "+420 601 555 010",
		Email: "jana@example.org", Subject: "Export fails", Description: "The export stops.", Severity: 3, Lang: "de"})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	num := strconv.Itoa(tk.Number)

	if code, _, errs := runCmd("ticket", "status", num, "open", "--data", dir); code != 0 || !strings.Contains(errs, "PORTAL_PUBLIC_URL is not set") {
		t.Fatalf("without PORTAL_PUBLIC_URL: exit %d, stderr %q", code, errs)
	}
	t.Setenv("PORTAL_PUBLIC_URL", "https://help.example")
	t.Setenv("PORTAL_MAIL_FROM", "Support <support@help.example>")
	if code, _, errs := runCmd("ticket", "reply", num, "Bitte senden Sie das Log.", "--data", dir); code != 0 {
		t.Fatalf("reply: exit %d %q", code, errs)
	}
	if code, _, errs := runCmd("ticket", "status", num, "solved", "--data", dir); code != 0 {
		t.Fatalf("status: exit %d %q", code, errs)
	}
	db, err = sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT kind, lang, to_addr, text_body, json_extract(headers, '$."Reply-To"'), secret IS NOT NULL
		FROM mail_outbox WHERE ticket = ? ORDER BY id`, tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var kinds []string
	for rows.Next() {
		var kind, lang, to, text, replyTo string
		var secret bool
		if err := rows.Scan(&kind, &lang, &to, &text, &replyTo, &secret); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, kind)
		if lang != "de" || to != "jana@example.org" || !secret || !strings.HasPrefix(replyTo, "support+"+num+".") {
			t.Errorf("%s mail: lang %s, to %s, secret %v, Reply-To %q", kind, lang, to, secret, replyTo)
		}
		if kind == "reply" && !strings.Contains(text, "Bitte senden Sie das Log.") {
			t.Errorf("reply mail text:\n%s", text)
		}
	}
	if strings.Join(kinds, ",") != "reply,solved" {
		t.Errorf("mails %v, want reply and solved", kinds)
	}
}
