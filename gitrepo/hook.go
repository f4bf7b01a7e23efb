package gitrepo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unicode"
)

// hookScript is the repository's pre-receive hook. It hands the push to
// the portal process that runs receive-pack (ReceivePack), through two
// FIFOs in PORTAL_HOOK_DIR: the quarantine path and git's ref-update lines
// go to "request", ending with a line "."; the portal's messages come back
// on "reply" and reach the pusher as "remote: ..." lines; the push is
// accepted only if the portal created "accepted". The reply FIFO is opened
// first: the portal holds it open, so this never blocks, and the portal
// knows the hook is reading once the request has arrived.
const hookScript = `#!/bin/sh
# Written by the portal (gitrepo.Open) at every start; edits are lost.
if [ -z "$PORTAL_HOOK_DIR" ]; then
	echo "pushes go through the portal's /content.git" >&2
	exit 1
fi
exec 3<"$PORTAL_HOOK_DIR/reply" || exit 1
{ printf '%s\n' "$GIT_QUARANTINE_PATH"; cat; echo .; } >"$PORTAL_HOOK_DIR/request" || exit 1
cat <&3 >&2
test -e "$PORTAL_HOOK_DIR/accepted"
`

// RefUpdate is one ref a push wants to move. Old or New is all zeros
// (ZeroID) when the ref is created or deleted.
type RefUpdate struct {
	Old, New, Ref string
}

// Created reports whether the update creates its ref.
func (u RefUpdate) Created() bool { return IsZeroID(u.Old) }

// Deleted reports whether the update deletes its ref.
func (u RefUpdate) Deleted() bool { return IsZeroID(u.New) }

// IsZeroID reports whether id is git's "no object" (40 or 64 zeros).
func IsZeroID(id string) bool {
	return id != "" && strings.Trim(id, "0") == ""
}

// Push is what a check sees of a push before it is accepted.
type Push struct {
	Updates []RefUpdate
	// Repo is a view of the repository that also sees the pushed objects,
	// still in quarantine: Tree, Diff and IsAncestor work on the new commits.
	Repo *Repo
}

// CheckFunc decides whether a push is accepted; each message is shown to
// the pusher as one "remote: " line, whatever the decision.
type CheckFunc func(ctx context.Context, p *Push) (accept bool, messages []string)

// maxMessages bounds what a check can send back (the rest is cut).
const (
	maxMessages   = 200
	maxMessageLen = 1000
)

// hookSession is the portal's side of one receive-pack's hook.
type hookSession struct {
	dir     string
	request *os.File // opened O_RDWR: never blocks, and a Close wakes a reader
	reply   *os.File
	done    chan struct{}
}

func newHookSession() (*hookSession, error) {
	dir, err := os.MkdirTemp("", "portal-hook-*") // 0700
	if err != nil {
		return nil, err
	}
	s := &hookSession{dir: dir, done: make(chan struct{})}
	for _, name := range []string{"request", "reply"} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o600); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("mkfifo: %w", err)
		}
	}
	// O_RDWR on a FIFO does not wait for the other side (Linux), so neither
	// the portal nor the hook can block forever on opening.
	if s.request, err = os.OpenFile(filepath.Join(dir, "request"), os.O_RDWR, 0); err == nil {
		s.reply, err = os.OpenFile(filepath.Join(dir, "reply"), os.O_RDWR, 0)
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// serve waits for the hook's request, runs check and answers. It returns
// when the hook has its answer or the session is closed.
func (s *hookSession) serve(ctx context.Context, r *Repo, check CheckFunc) {
	defer close(s.done)
	quarantine, updates, err := readRequest(s.request)
	if err != nil {
		s.reply.Close() // a hook that did start must not wait for a verdict
		return          // receive-pack ended without running the hook (or died)
	}
	accept, messages := runCheck(ctx, r, quarantine, updates, check)
	if accept {
		if f, err := os.OpenFile(filepath.Join(s.dir, "accepted"), os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			f.Close()
		} else {
			accept, messages = false, []string{"the portal could not record its decision"}
			r.log.Error("push hook", "err", err)
		}
	}
	w := bufio.NewWriter(s.reply)
	for i, m := range messages {
		if i == maxMessages {
			fmt.Fprintf(w, "... and %d more\n", len(messages)-i)
			break
		}
		w.WriteString(cleanMessage(m) + "\n")
	}
	w.Flush()
	// Closing our end (the only writer) is the hook's end of file.
	s.reply.Close()
}

func readRequest(f *os.File) (quarantine string, updates []RefUpdate, err error) {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	first := true
	for sc.Scan() {
		line := sc.Text()
		switch {
		case first:
			quarantine, first = line, false
		case line == ".":
			return quarantine, updates, nil
		default:
			f := strings.Fields(line)
			if len(f) != 3 {
				return "", nil, fmt.Errorf("unexpected hook line %q", line)
			}
			updates = append(updates, RefUpdate{Old: f[0], New: f[1], Ref: f[2]})
		}
	}
	if err := sc.Err(); err != nil {
		return "", nil, err
	}
	return "", nil, errors.New("hook request ended early")
}

// runCheck calls check on a quarantine view; a panic, a malformed request
// or a check outliving ctx or the repository's CheckTimeout rejects the
// push.
func runCheck(ctx context.Context, r *Repo, quarantine string, updates []RefUpdate, check CheckFunc) (bool, []string) {
	for _, u := range updates {
		if !objectID.MatchString(u.Old) || !objectID.MatchString(u.New) {
			return false, []string{"push refused: malformed ref update"}
		}
	}
	var env []string
	// A push that only deletes refs brings no objects and has no quarantine.
	if quarantine != "" {
		objects := filepath.Join(r.dir, "objects") + string(filepath.Separator)
		if !strings.HasPrefix(filepath.Clean(quarantine), objects) {
			r.log.Error("push hook: quarantine outside the repository", "path", quarantine)
			return false, []string{"push refused: the portal could not check it"}
		}
		env = []string{
			"GIT_OBJECT_DIRECTORY=" + quarantine,
			"GIT_ALTERNATE_OBJECT_DIRECTORIES=" + filepath.Join(r.dir, "objects"),
			"GIT_QUARANTINE_PATH=" + quarantine,
		}
	}
	view := r.view(env)
	type result struct {
		accept   bool
		messages []string
	}
	if r.checkTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.checkTimeout)
		defer cancel()
	}
	res := make(chan result, 1)
	go func() {
		defer view.Close() // here: a check outliving ctx may still read
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("push check panicked", "panic", p)
				res <- result{false, []string{"push refused: the portal failed to check it"}}
			}
		}()
		a, m := check(ctx, &Push{Updates: updates, Repo: view})
		res <- result{a, m}
	}()
	select {
	case x := <-res:
		return x.accept, x.messages
	case <-ctx.Done():
		return false, []string{"push refused: checking it took too long"}
	}
}

// cleanMessage makes a message one line of printable text: no terminal
// escapes from a writer's file names reach the pusher's screen.
func cleanMessage(m string) string {
	if len(m) > maxMessageLen {
		m = m[:maxMessageLen] + "…"
	}
	return strings.Map(func(c rune) rune {
		switch {
		case c == '\n' || c == '\r' || c == '\t':
			return ' '
		case !unicode.IsPrint(c):
			return '?'
		}
		return c
	}, m)
}

func (s *hookSession) close() {
	if s.request != nil {
		s.request.Close()
	}
	if s.reply != nil {
		s.reply.Close()
	}
	os.RemoveAll(s.dir)
}
