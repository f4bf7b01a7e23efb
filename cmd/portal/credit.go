package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/orbitask/portal/credit"
	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

const creditUsage = `usage: portal credit topup --org NAME --hours H --ref TEXT [--data DIR]
       portal credit balance --org NAME [--data DIR]
       portal credit ledger --org NAME [--csv] [--data DIR]`

// creditFlags name, for each field of package credit's errors, the flag
// the operator typed.
var creditFlags = map[string]string{"org": "--org", "minutes": "--hours", "ref": "--ref", "by": "USER"}

// creditCommand is `portal credit topup|balance|ledger`: the operators'
// server-support credit (docs/server-support.md). Entries name the
// operating system's user ("cli:USER").
func creditCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, creditUsage)
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("credit "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := os.Getenv("PORTAL_DATA")
	if data == "" {
		data = "./data"
	}
	fs.StringVar(&data, "data", data, "data directory")
	org := fs.String("org", "", "organisation")
	hours := fs.String("hours", "", "hours")
	ref := fs.String("ref", "", "invoice reference")
	asCSV := fs.Bool("csv", false, "CSV")
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "portal credit %s: %s\n", sub, fmt.Sprintf(format, a...))
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		return fail("%v", err)
	}
	if fs.NArg() > 0 {
		return fail("unexpected %q\n%s", fs.Arg(0), creditUsage)
	}
	switch sub {
	case "topup", "balance", "ledger":
	default:
		fmt.Fprintf(stderr, "portal credit: unknown command %q\n%s\n", sub, creditUsage)
		return 2
	}
	if strings.TrimSpace(*org) == "" {
		return fail("--org: required")
	}
	minutes := 0
	if sub == "topup" {
		if *hours == "" {
			return fail("--hours: required")
		}
		h, err := strconv.ParseFloat(*hours, 64)
		if err != nil || math.IsNaN(h) || h <= 0 || h*60 > credit.MaxMinutes {
			return fail("--hours: must be a number of hours above 0 and at most %d, such as 8 or 1.5", credit.MaxMinutes/60)
		}
		minutes = int(math.Round(h * 60))
	}
	db, err := sqlitedb.Open(filepath.Join(data, "portal.db"))
	if err != nil {
		fmt.Fprintln(stderr, "portal credit:", err)
		return 1
	}
	defer db.Close()
	st, err := credit.Open(credit.Config{DB: db})
	if err != nil {
		fmt.Fprintln(stderr, "portal credit:", err)
		return 1
	}
	ctx := context.Background()
	switch sub {
	case "topup":
		if _, err := st.TopUp(ctx, *org, minutes, *ref, cliActor()); err != nil {
			var fe *fields.Error
			if errors.As(err, &fe) {
				var parts []string
				for f, msg := range fe.Messages() {
					name := creditFlags[f]
					if name == "" {
						name = f
					}
					parts = append(parts, name+": "+msg)
				}
				sort.Strings(parts)
				return fail("%s", strings.Join(parts, "; "))
			}
			fmt.Fprintln(stderr, "portal credit topup:", err)
			return 1
		}
		fallthrough
	case "balance":
		b, err := st.Balance(ctx, *org)
		if err != nil {
			fmt.Fprintln(stderr, "portal credit:", err)
			return 1
		}
		debt := ""
		if b.Debt != 0 {
			debt = fmt.Sprintf(", debt %d min", b.Debt)
		}
		fmt.Fprintf(stdout, "%s: balance %d min (%s), booked %d min%s\n", b.Org, b.Balance, credit.HoursMinutes(b.Balance), b.Booked, debt)
	case "ledger":
		es, err := st.Ledger(ctx, *org)
		if err != nil {
			fmt.Fprintln(stderr, "portal credit:", err)
			return 1
		}
		if *asCSV {
			w := csv.NewWriter(stdout)
			w.Write([]string{"id", "at", "org", "kind", "minutes", "by", "ref", "reason", "session"})
			for _, e := range es {
				sid := ""
				if e.SessionID != 0 {
					sid = strconv.FormatInt(e.SessionID, 10)
				}
				w.Write([]string{strconv.FormatInt(e.ID, 10), sqlitedb.FormatTime(e.At), e.Org, e.Kind,
					strconv.Itoa(e.Minutes), e.By, e.Ref, e.Reason, sid})
			}
			w.Flush()
			if err := w.Error(); err != nil {
				fmt.Fprintln(stderr, "portal credit:", err)
				return 1
			}
			return 0
		}
		if len(es) == 0 {
			fmt.Fprintf(stdout, "%s: no entries\n", *org)
			return 0
		}
		sum := 0
		for _, e := range es {
			sum += e.Minutes
			note := e.Ref + e.Reason
			if e.SessionID != 0 {
				note = strings.TrimSpace(fmt.Sprintf("session %d %s", e.SessionID, e.Reason))
			}
			fmt.Fprintf(stdout, "%s  %-10s %+6d min  %6d min  %-16s %s\n", e.At.UTC().Format("2006-01-02 15:04"), e.Kind, e.Minutes, sum, e.By, note)
		}
	}
	return 0
}
