package mailin

import (
	"context"
	"errors"
	"fmt"
	"net"
	netsmtp "net/smtp"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/orbitask/portal/inbound"
)

// The Postfix configuration of TestPostfixDeliversOverLMTP, which
// docs/email.md copies as the working example: mail to the support
// address (with any +extension: recipient_delimiter) goes over LMTP to the
// portal; the rest of the domain would go where it goes today. Lines
// marked "test only" are not in the doc.
const postfixMainCF = `compatibility_level = 3.6
recipient_delimiter = +
transport_maps = hash:{{ETC}}/transport
relay_domains = help.example, unix.help.example

# test only: a private instance on a loopback port, retrying at once
queue_directory = {{DIR}}/queue
data_directory = {{DIR}}/data
maillog_file = {{DIR}}/maillog
maillog_file_prefixes = {{DIR}}
myhostname = mx.help.example
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
`

const postfixTransport = `support@help.example       lmtp:inet:{{LMTP}}
support@unix.help.example  lmtp:unix:{{SOCK}}
`

// Postfix's own master.cf, less what this instance does not use, every
// service unchrooted (the LMTP socket's path is the real one), smtpd on a
// loopback port of the test's.
const postfixMasterCF = `{{SMTP}} inet n - n - - smtpd
pickup    unix  n - n 60   1 pickup
cleanup   unix  n - n -    0 cleanup
qmgr      unix  n - n 300  1 qmgr
rewrite   unix  - - n -    - trivial-rewrite
bounce    unix  - - n -    0 bounce
defer     unix  - - n -    0 bounce
trace     unix  - - n -    0 bounce
verify    unix  - - n -    1 verify
flush     unix  n - n 1000 0 flush
proxymap  unix  - - n -    - proxymap
smtp      unix  - - n -    - smtp
relay     unix  - - n -    - smtp
showq     unix  n - n -    - showq
error     unix  - - n -    - error
retry     unix  - - n -    - error
discard   unix  - - n -    - discard
lmtp      unix  - - n -    - lmtp
anvil     unix  - - n -    1 anvil
scache    unix  - - n -    1 scache
postlog   unix-dgram n - n - 1 postlogd
`

// TestPostfixDeliversOverLMTP runs Debian's Postfix, its own instance in a
// temporary directory, in front of the portal's LMTP listeners (TCP and a
// unix socket), submits mail to it over SMTP, and checks what Deliver
// gets: the envelope sender, every recipient with its +extension (the
// ticket's reply tag), the mail; and that a temporary failure (451) makes
// Postfix deliver the mail again, while a mail Deliver refuses for good is
// accepted and dropped: Postfix bounces nothing to its forged sender.
// Skipped where Postfix is not installed, except under CI=true, where it
// must run.
func TestPostfixDeliversOverLMTP(t *testing.T) {
	postfix, err := exec.LookPath("postfix")
	if err != nil {
		postfix = "/usr/sbin/postfix"
	}
	ci := os.Getenv("CI") == "true"
	if _, err := os.Stat(postfix); err != nil {
		if ci {
			t.Fatalf("CI=true and Postfix is not installed (.ci/run installs it): %v", err)
		}
		t.Skip("postfix is not installed (apt-get install postfix)")
	}
	if os.Geteuid() != 0 {
		if ci {
			t.Fatal("CI=true: this test starts Postfix, which needs root")
		}
		t.Skip("starting Postfix needs root")
	}
	pfUser, err := user.Lookup("postfix")
	if err != nil {
		t.Fatal(err)
	}
	pfGID, _ := strconv.Atoi(pfUser.Gid)
	pfUID, _ := strconv.Atoi(pfUser.Uid)

	dir := t.TempDir()
	// Postfix's daemons run as user postfix and must reach the queue.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if !reachable(filepath.Dir(filepath.Dir(dir))) { // a private TMPDIR: use /tmp
		var err error
		if dir, err = os.MkdirTemp("/tmp", "portal-postfix-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		must(t, os.Chmod(dir, 0o755))
	}
	etc := filepath.Join(dir, "etc")
	// The socket's directory: group postfix, setgid, so the socket the
	// portal makes there is the postfix group's (as docs/email.md says).
	sockDir := filepath.Join(dir, "portal")
	for _, d := range []string{etc, filepath.Join(dir, "queue"), filepath.Join(dir, "data"), sockDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must(t, os.Chown(filepath.Join(dir, "data"), pfUID, -1))
	must(t, os.Chown(sockDir, 0, pfGID))
	must(t, os.Chmod(sockDir, 0o2750|os.ModeSetgid))

	var mu sync.Mutex
	var got []delivery
	failedOnce := false
	badSeen := 0
	deliver := func(_ context.Context, from string, rcpts []string, raw []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(string(raw), "<bad@acme.example>") {
			badSeen++
			return fmt.Errorf("mailroute: %w: From: no address", inbound.ErrMalformed)
		}
		if strings.Contains(string(raw), "<retry@acme.example>") && !failedOnce {
			failedOnce = true
			return errors.New("database is busy")
		}
		got = append(got, delivery{from, append([]string(nil), rcpts...), string(raw)})
		return nil
	}
	accept := func(rcpt string) bool {
		local, domain, _ := strings.Cut(strings.ToLower(rcpt), "@")
		return (domain == "help.example" || domain == "unix.help.example") && (local == "support" || strings.HasPrefix(local, "support+"))
	}
	tcp := startListener(t, ListenConfig{Endpoint: Endpoint{LMTP: true, Network: "tcp", Address: "127.0.0.1:0"}, Accept: accept, Deliver: deliver})
	sock := filepath.Join(sockDir, "lmtp.sock")
	startListener(t, ListenConfig{Endpoint: Endpoint{LMTP: true, Network: "unix", Address: sock}, Accept: accept, Deliver: deliver})

	smtpAddr := freePort(t)
	fill := func(s string) string {
		return strings.NewReplacer("{{DIR}}", dir, "{{ETC}}", etc, "{{LMTP}}", tcp.Addr().String(), "{{SOCK}}", sock, "{{SMTP}}", smtpAddr).Replace(s)
	}
	must(t, os.WriteFile(filepath.Join(etc, "main.cf"), []byte(fill(postfixMainCF)), 0o644))
	must(t, os.WriteFile(filepath.Join(etc, "master.cf"), []byte(fill(postfixMasterCF)), 0o644))
	must(t, os.WriteFile(filepath.Join(etc, "transport"), []byte(fill(postfixTransport)), 0o644))
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	postmap := filepath.Join(filepath.Dir(postfix), "postmap")
	run(postmap, "-c", etc, filepath.Join(etc, "transport"))
	t1 := time.Now()
	run(postfix, "-c", etc, "start")
	t.Logf("start took %v", time.Since(t1))
	t.Cleanup(func() { stopPostfix(t, postfix, etc, dir) })
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
			t.Logf("Postfix's log:\n%s", log)
		}
	})

	tagged := "support+1001.ABCDEFGHIJKLMNOP@help.example"
	mails := []struct {
		id    string
		rcpts []string
	}{
		{"reply@acme.example", []string{tagged, "support@help.example"}},
		{"unix@acme.example", []string{"support@unix.help.example"}},
		{"retry@acme.example", []string{"support@help.example"}},
	}
	// A mail Deliver refuses for good, from a forged envelope sender: the
	// listener accepts and drops it, so Postfix bounces nothing to the victim.
	bad := "To: support@help.example\r\nSubject: CHEAP PILLS\r\nMessage-ID: <bad@acme.example>\r\n\r\nBuy now\r\n"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := netsmtp.SendMail(smtpAddr, nil, "victim@third.example", []string{"support@help.example"}, []byte(bad))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("submitting the bad mail to Postfix: %v", err)
		}
	}
	for _, m := range mails {
		msg := fmt.Sprintf("From: Ann <ann@acme.example>\r\nTo: %s\r\nSubject: Printer\r\nMessage-ID: <%s>\r\n\r\nIt is on fire (%s).\r\n",
			strings.Join(m.rcpts, ", "), m.id, m.id)
		// Postfix answers only once its smtpd is up: retry for a moment.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			err := netsmtp.SendMail(smtpAddr, nil, "ann@acme.example", m.rcpts, []byte(msg))
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("submitting %s to Postfix: %v", m.id, err)
			}
		}
	}
	byID := map[string]delivery{}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		for _, d := range got {
			for _, m := range mails {
				if strings.Contains(d.raw, "<"+m.id+">") {
					if _, dup := byID[m.id]; dup {
						t.Errorf("%s delivered twice", m.id)
					}
					byID[m.id] = d
				}
			}
		}
		got = nil
		mu.Unlock()
		if len(byID) == len(mails) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d of %d mails within 15 s: %v", len(byID), len(mails), byID)
		}
	}
	t.Logf("delivered after %v", time.Since(t1))
	for _, m := range mails {
		d := byID[m.id]
		want := append([]string(nil), m.rcpts...)
		if d.from != "ann@acme.example" || !sameSet(d.rcpts, want) || !strings.Contains(d.raw, "It is on fire ("+m.id+")") {
			t.Errorf("%s: from %q rcpts %v; want from ann@acme.example rcpts %v", m.id, d.from, d.rcpts, want)
		}
		if !strings.HasPrefix(d.raw, "Received: ") {
			t.Errorf("%s did not come through Postfix (no Received: line first):\n%s", m.id, d.raw)
		}
	}
	if !failedOnce {
		t.Error("the retried mail was never refused")
	}
	// The bad mail reached Deliver once, and Postfix's log says it was
	// sent (our 250), never bounced: no mail to victim@third.example.
	var status string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		status = postfixStatus(t, dir, "<bad@acme.example>")
		if status != "" || time.Now().After(deadline) {
			break
		}
	}
	mu.Lock()
	seen := badSeen
	mu.Unlock()
	log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
	if seen != 1 || !strings.Contains(status, "status=sent") {
		t.Errorf("the refused mail: Deliver saw it %d times; Postfix: %q; want once, status=sent", seen, status)
	}
	for _, l := range strings.Split(string(log), "\n") {
		if strings.Contains(l, "status=bounced") || strings.Contains(l, "non-delivery notification") || strings.Contains(l, "to=<victim@third.example>") {
			t.Errorf("Postfix bounced: %s", l)
		}
	}
}

// postfixStatus is the "status=" part of the delivery line of the mail
// with Message-ID id in Postfix's log, "" while there is none.
func postfixStatus(t *testing.T, dir, id string) string {
	log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
	lines := strings.Split(string(log), "\n")
	qid := ""
	for _, l := range lines {
		if before, _, ok := strings.Cut(l, ": message-id="+id); ok {
			f := strings.Fields(before)
			qid = f[len(f)-1]
		}
	}
	if qid == "" {
		return ""
	}
	for _, l := range lines {
		if strings.Contains(l, " "+qid+": ") && strings.Contains(l, "status=") {
			_, st, _ := strings.Cut(l, "status=")
			return "status=" + st
		}
	}
	return ""
}

// reachable says whether every directory from / to dir lets others
// through.
func reachable(dir string) bool {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// stopPostfix stops the instance and waits for its master process to end
// (killing it, the process this test started, if it will not).
func stopPostfix(t *testing.T, postfix, etc, dir string) {
	pidFile := filepath.Join(dir, "queue", "pid", "master.pid")
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	t0 := time.Now()
	defer func() { t.Logf("stop took %v", time.Since(t0)) }()
	if out, err := exec.Command(postfix, "-c", etc, "stop").CombinedOutput(); err != nil {
		t.Logf("postfix stop: %v\n%s", err, out)
	}
	if pid <= 0 {
		return
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	t.Logf("Postfix's master (pid %d) did not stop: killing it", pid)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
