package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	"github.com/orbitask/portal/gitrepo"
	"github.com/orbitask/portal/publish"
)

// publishCommand is `portal publish DIR [--data DIR] [--message M]
// [--author "Name <email>"]`: DIR becomes the next commit of the content
// repository's main branch, if it passes the checks a push passes.
func publishCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := os.Getenv("PORTAL_DATA")
	if data == "" {
		data = "./data"
	}
	fs.StringVar(&data, "data", data, "data directory")
	message := fs.String("message", "", "commit message")
	author := fs.String("author", "", `"Name <email>"`)
	maxDefault, err := strconv.Atoi(cmp.Or(os.Getenv("PORTAL_MAX_CONTENT_FILE"), "5"))
	if err != nil || maxDefault < 1 {
		fmt.Fprintf(stderr, "portal publish: PORTAL_MAX_CONTENT_FILE: not a number of MiB: %q\n", os.Getenv("PORTAL_MAX_CONTENT_FILE"))
		return 2
	}
	// The same limit as the portal's: a file it would refuse must not be
	// committed behind its back.
	maxMiB := fs.Int("max-content-file", maxDefault, "largest file, MiB")
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			fmt.Fprintln(stderr, "portal publish:", err)
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, `usage: portal publish DIR [--data DIR] [--message M] [--author "Name <email>"]`)
		return 2
	}
	dir := pos[0]
	sig, err := signature(*author)
	if err != nil {
		fmt.Fprintln(stderr, "portal publish: --author:", err)
		return 2
	}
	if *message == "" {
		*message = "Publish " + filepath.Base(filepath.Clean(dir)) + " with portal publish"
	}
	ctx := context.Background()
	repoDir := filepath.Join(data, "content.git")
	if _, err := os.Stat(repoDir); err != nil {
		fmt.Fprintf(stderr, "portal publish: no content repository in %s: start the portal once (it creates it from --content), or check --data\n", data)
		return 1
	}
	repo, err := gitrepo.Open(ctx, gitrepo.Config{Dir: repoDir, Branch: "main"})
	if err != nil {
		fmt.Fprintln(stderr, "portal publish:", err)
		return 1
	}
	defer repo.Close()
	commit, problems, err := publish.PublishDir(ctx, repo, dir, *message, sig, int64(*maxMiB)<<20)
	if err != nil {
		fmt.Fprintln(stderr, "portal publish:", err)
		return 1
	}
	for _, p := range problems {
		fmt.Fprintf(stdout, "%s:%d: %s\n", filepath.Join(dir, filepath.FromSlash(p.Path)), p.Line, p.Message)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "%d problem(s) in %s; nothing was published\n", len(problems), dir)
		return 1
	}
	if commit == "" {
		fmt.Fprintf(stdout, "nothing to publish: %s holds what is published already\n", dir)
		return 0
	}
	fmt.Fprintf(stdout, "committed %s to main; a running portal publishes it within a second\n", commit[:12])
	return 0
}

// signature parses "Name <email>"; empty means the user running the
// command, at localhost.
func signature(s string) (gitrepo.Signature, error) {
	if s == "" {
		name := "portal publish"
		if u, err := user.Current(); err == nil && u.Username != "" {
			name = u.Username
		}
		return gitrepo.Signature{Name: name, Email: name + "@localhost"}, nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return gitrepo.Signature{}, fmt.Errorf("%q: want \"Name <email>\"", s)
	}
	name := a.Name
	if name == "" {
		name = a.Address
	}
	return gitrepo.Signature{Name: name, Email: a.Address}, nil
}
