package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

// customerCommand is `portal customer confirm EMAIL [--data DIR]`: staff
// confirm a customer's address by hand (after a phone call), so the plan
// its domain grants applies to its tickets; it prints what moved up. The
// confirmation records the command line and the operating system's user
// (confirmed_addresses, and each moved ticket's event).
func customerCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("customer", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := os.Getenv("PORTAL_DATA")
	if data == "" {
		data = "./data"
	}
	fs.StringVar(&data, "data", data, "data directory")
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			fmt.Fprintln(stderr, "portal customer:", err)
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 2 || pos[0] != "confirm" {
		fmt.Fprintln(stderr, "usage: portal customer confirm EMAIL [--data DIR]")
		return 2
	}
	db, err := sqlitedb.Open(filepath.Join(data, "portal.db"))
	if err != nil {
		fmt.Fprintln(stderr, "portal customer:", err)
		return 1
	}
	defer db.Close()
	// A confirmation may raise the reply rule's call: mailed as the
	// console's and the mailed link's confirmations mail it.
	var ts *tickets.Store
	notify, err := ticketNotify(db, data, func() *tickets.Store { return ts }, func(s string) { fmt.Fprintln(stderr, "portal customer:", s) })
	if err == nil {
		ts, err = tickets.Open(tickets.Config{DB: db, DataDir: data, NotifyTx: notify})
	}
	if err != nil {
		fmt.Fprintln(stderr, "portal customer:", err)
		return 1
	}
	user := strings.TrimPrefix(cliActor(), "cli:")
	if user == "cli" {
		user = ""
	}
	c, err := ts.ConfirmAddress(context.Background(), pos[1], tickets.Confirmer{Via: tickets.ViaCLI, User: user})
	if err != nil {
		var ve *tickets.ValidationError
		if errors.As(err, &ve) {
			fmt.Fprintf(stderr, "portal customer confirm: EMAIL: %q is not an e-mail address\n", pos[1])
			return 2
		}
		fmt.Fprintln(stderr, "portal customer confirm:", err)
		return 1
	}
	if c.Already {
		fmt.Fprintf(stdout, "%s: already confirmed (%s, %s)\n", c.Email, c.By, c.At.UTC().Format("2006-01-02 15:04 UTC"))
	} else {
		fmt.Fprintf(stdout, "%s: confirmed\n", c.Email)
	}
	if len(c.Moved) == 0 {
		fmt.Fprintln(stdout, "no ticket was waiting for it")
	}
	for _, m := range c.Moved {
		due := "as agreed"
		if !m.SLADue.IsZero() {
			due = "due " + m.SLADue.UTC().Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(stdout, "#%d %s: moved up to %s, %s\n", m.Number, m.Subject, m.Plan.Label(), due)
	}
	return 0
}
