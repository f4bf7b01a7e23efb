package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

func TestParsers(t *testing.T) {
	if n, ok := ticketNumberIn([]byte(`{"id":3,"number":1042,"status":"new"}`)); !ok || n != 1042 {
		t.Errorf("ticketNumberIn = %d, %v", n, ok)
	}
	if _, ok := ticketNumberIn([]byte(`{"error":"x"}`)); ok {
		t.Error("ticketNumberIn found a number in an error")
	}
	if seq, ok := eventSeq([]byte(`{"type":"event","seq":17,"event":{"kind":"st`)); !ok || seq != 17 {
		t.Errorf("eventSeq = %d, %v", seq, ok)
	}
	for _, s := range []string{`{"type":"snapshot","seq":3,`, `{"type":"event","seq":12`} {
		if _, ok := eventSeq([]byte(s)); ok {
			t.Errorf("eventSeq accepted %s", s)
		}
	}
}

func TestProcReadings(t *testing.T) {
	pid := os.Getpid()
	if _, err := procCPU(pid); err != nil {
		t.Fatal(err)
	}
	if rss, err := procRSS(pid); err != nil || rss <= 0 {
		t.Fatalf("procRSS = %d, %v", rss, err)
	}
	if busy, _ := machineCPU(); busy <= 0 {
		t.Fatal("machineCPU read nothing")
	}
	if got := latencies([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}); got != "p50 2.00, p90 2.00, p99 2.00, max 3.00 ms" {
		t.Errorf("latencies = %q", got)
	}
}

func TestDraftsAndBodies(t *testing.T) {
	tsv := filepath.Join(t.TempDir(), "d.tsv")
	if err := os.WriteFile(tsv, []byte("Hello, the export fails. Thanks, Eva\tdoc-1\nHi! Where is the log?\tdoc-2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	drafts, err := loadDrafts(tsv, "", "en")
	if err != nil || len(drafts) != 2 || drafts[1].Body != "Hi! Where is the log?" {
		t.Fatalf("loadDrafts = %+v, %v", drafts, err)
	}
	bodies, err := ticketBodies(drafts, 50, 1)
	if err != nil || len(bodies) != 50 {
		t.Fatalf("ticketBodies: %d, %v", len(bodies), err)
	}
	// Every body must be a valid filing, or the benchmark measures 422s.
	dir := t.TempDir()
	db, err := sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := tickets.Open(tickets.Config{DB: db, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bodies {
		var f struct {
			Name, Company, Phone, Email, Subject, Description, Version, Deployment, Environment, Lang string
			Severity                                                                                  int
			ErrorMessages                                                                             string `json:"error_messages"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.File(context.Background(), tickets.NewTicket{Name: f.Name, Company: f.Company, Phone: f.Phone,
			Email: f.Email, Subject: f.Subject, Description: f.Description, Severity: f.Severity, Version: f.Version,
			Environment: f.Environment, ErrorMessages: f.ErrorMessages, Deployment: tickets.Deployment(f.Deployment), Lang: f.Lang}); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
}
