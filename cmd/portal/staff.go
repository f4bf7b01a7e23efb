package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/staff"
)

const userUsage = `usage: portal user add --email EMAIL --name NAME --role agent|operator|writer [--data DIR]
       portal user list [--data DIR]
       portal user disable --email EMAIL [--data DIR]

add prints a one-time password, shown only then; the user must change it at
first login. disable ends the account's sessions and revokes its access
tokens. --data defaults to $PORTAL_DATA, else ./data.
`

const tokenUsage = `usage: portal token create --email EMAIL [--name NAME] [--data DIR]

create prints a personal access token for scripts ("Authorization: Bearer
TOKEN"), shown only then. It stops working when the account is disabled.
--data defaults to $PORTAL_DATA, else ./data.
`

// userCommand is `portal user add|list|disable`.
func userCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return 2
	}
	sub, args := args[0], args[1:]
	fs, data := staffFlagSet("user " + sub)
	var email, name, role string
	switch sub {
	case "add":
		fs.StringVar(&email, "email", "", "the staff member's email address")
		fs.StringVar(&name, "name", "", "the staff member's name")
		fs.StringVar(&role, "role", "", "agent, operator or writer")
	case "disable":
		fs.StringVar(&email, "email", "", "the account's email address")
	case "list":
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, userUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "portal user: unknown subcommand %q\n\n%s", sub, userUsage)
		return 2
	}
	if code, ok := parseStaffFlags(fs, args, userUsage, stdout, stderr); !ok {
		return code
	}
	if sub == "disable" && email == "" {
		fmt.Fprintf(stderr, "portal user disable: --email is required\n\n%s", userUsage)
		return 2
	}

	store, closeDB, err := openStaff(*data, sub == "add")
	if err != nil {
		fmt.Fprintf(stderr, "portal user %s: %v\n", sub, err)
		return 1
	}
	defer closeDB()
	ctx := context.Background()
	switch sub {
	case "add":
		u, password, err := store.AddUser(ctx, email, name, staff.Role(role), cliActor())
		if err != nil {
			return staffFailure("user add", err, stderr)
		}
		fmt.Fprintf(stdout, "added %s %s (%s)\n", u.Role, u.Email, u.Name)
		fmt.Fprintf(stdout, "one-time password: %s\n", password)
		fmt.Fprintln(stdout, "It will not be shown again. It must be changed at first login.")
	case "list":
		users, err := store.Users(ctx)
		if err != nil {
			return staffFailure("user list", err, stderr)
		}
		if len(users) == 0 {
			fmt.Fprintln(stdout, "no staff accounts; add one with: portal user add --email EMAIL --name NAME --role operator")
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSTATUS\tLAST LOGIN")
		for _, u := range users {
			status, last := "active", "never"
			if u.Disabled {
				status = "disabled"
			}
			if !u.LastLoginAt.IsZero() {
				last = u.LastLoginAt.UTC().Format("2006-01-02 15:04 UTC")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, status, last)
		}
		if err := tw.Flush(); err != nil {
			return staffFailure("user list", err, stderr)
		}
	case "disable":
		if err := store.DisableUser(ctx, email, cliActor()); err != nil {
			return staffFailure("user disable", err, stderr)
		}
		fmt.Fprintf(stdout, "disabled %s: its sessions have ended and its access tokens no longer work\n", strings.ToLower(strings.TrimSpace(email)))
	}
	return 0
}

// tokenCommand is `portal token create`.
func tokenCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return 2
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "create":
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, tokenUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "portal token: unknown subcommand %q\n\n%s", sub, tokenUsage)
		return 2
	}
	fs, data := staffFlagSet("token create")
	var email, name string
	fs.StringVar(&email, "email", "", "the account's email address")
	fs.StringVar(&name, "name", "", "what the token is for")
	if code, ok := parseStaffFlags(fs, args, tokenUsage, stdout, stderr); !ok {
		return code
	}
	if email == "" {
		fmt.Fprintf(stderr, "portal token create: --email is required\n\n%s", tokenUsage)
		return 2
	}
	store, closeDB, err := openStaff(*data, false)
	if err != nil {
		fmt.Fprintln(stderr, "portal token create:", err)
		return 1
	}
	defer closeDB()
	token, err := store.CreateToken(context.Background(), email, name, cliActor())
	if err != nil {
		return staffFailure("token create", err, stderr)
	}
	// The token alone on stdout, so that TOKEN=$(portal token create ...) works.
	fmt.Fprintln(stdout, token)
	fmt.Fprintf(stderr, "token for %s created; it will not be shown again\n", strings.ToLower(strings.TrimSpace(email)))
	return 0
}

// staffFlagSet returns a flag set with --data, defaulting to $PORTAL_DATA or
// ./data like the other commands.
func staffFlagSet(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := os.Getenv("PORTAL_DATA")
	if data == "" {
		data = "./data"
	}
	return fs, fs.String("data", data, "data directory")
}

// parseStaffFlags parses args; when the command should stop (help, a bad
// flag, a stray argument) it returns the exit code and false.
func parseStaffFlags(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (int, bool) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return 0, false
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "portal %s: %v\n\n%s", fs.Name(), err, usage)
		return 2, false
	}
	return 0, true
}

// openStaff opens the staff store in the data directory. Only create (for
// adding the first account before the portal has ever run) makes a new
// database; otherwise a mistyped --data would quietly start an empty one.
func openStaff(data string, create bool) (*staff.Store, func(), error) {
	path := filepath.Join(data, "portal.db")
	if create {
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, nil, err
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("no database at %s (is --data right?): %w", path, err)
	}
	db, err := sqlitedb.Open(path)
	if err != nil {
		return nil, nil, err
	}
	store, err := staff.Open(staff.Config{DB: db})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return store, func() { db.Close() }, nil
}

// staffFailure reports a store error and returns the exit code: 2 for input
// at fault (naming the flag), 1 otherwise.
func staffFailure(cmd string, err error, stderr io.Writer) int {
	var ve *staff.ValidationError
	if errors.As(err, &ve) {
		fields := make([]string, 0, len(ve.Fields))
		for f := range ve.Fields {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			fmt.Fprintf(stderr, "portal %s: --%s: %s\n", cmd, f, ve.Fields[f].Message())
		}
		return 2
	}
	if errors.Is(err, staff.ErrNotFound) {
		fmt.Fprintf(stderr, "portal %s: no staff account with that --email\n", cmd)
		return 1
	}
	fmt.Fprintf(stderr, "portal %s: %v\n", cmd, err)
	return 1
}

// cliActor names the command line in the audit log, with the operating
// system user when known.
func cliActor() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}
