package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/orbitask/portal/internal/testlog"
)

// TestMain lets a test run this test binary as the portal itself (see
// startPortalProcess).
func TestMain(m *testing.M) {
	if os.Getenv("PORTAL_TEST_RUN_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// tinyContent writes a knowledge base of one article.
func tinyContent(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "en", "export.md")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("---\ntitle: Exporting to CSV\n---\nUse Export in the menu.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startServe runs serve with cfg until cancel is called, and returns the
// address it listens on and the channel its result arrives on; logs (may
// be nil) are shown if it does not start.
func startServe(t *testing.T, cfg Config, log *slog.Logger, logs fmt.Stringer) (addr string, cancel func(), served <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc, result := make(chan string, 1), make(chan error, 1)
	go func() { result <- serve(ctx, cfg, log, func(a string) { addrc <- a }) }()
	select {
	case addr = <-addrc:
	case err := <-result:
		cancel()
		t.Fatalf("serve: %v\n%v", err, logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("not listening after 30 s:\n%v", logs)
	}
	return addr, cancel, result
}

// fileTicket files a ticket over HTTP and returns its number and token.
func fileTicket(t *testing.T, addr string) (int, string) {
	t.Helper()
	res, err := http.Post("http://"+addr+"/api/tickets", "application/json", strings.NewReader(`{"name":"Jana Novák","company":"Acme",
		"phone":"+420 601 555 010","email":"jana@acme.example","subject":"Export stops","description":"The export stops at 10,000 rows.","severity":3,"lang":"en"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var filed struct {
		Number int    `json:"number"`
		Token  string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&filed); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("filing: %d %v", res.StatusCode, err)
	}
	return filed.Number, filed.Token
}

// wantGoingAway reads conn until it closes and wants close 1001.
func wantGoingAway(t *testing.T, name string, conn *websocket.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Errorf("%s: %v, want close 1001 (going away)", name, err)
		}
		return
	}
}

// When the portal stops, every live connection, the customer's and the
// draft's, is told close 1001 "going away" (so pages reconnect later, not
// all at once after a 1006), and serve returns nil: a clean stop.
func TestShutdownTellsSocketsGoingAway(t *testing.T) {
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	cfg := Config{Addr: "127.0.0.1:0", Content: tinyContent(t), Data: t.TempDir(), SearchCache: 100,
		SocketsPerClient: 200, ShutdownGrace: 5 * time.Second}
	addr, cancel, served := startServe(t, cfg, log, logs)
	defer cancel()

	number, token := fileTicket(t, addr)
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ticketFeed, _, err := d.Dial(fmt.Sprintf("ws://%s/api/tickets/%d/live?token=%s", addr, number, url.QueryEscape(token)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ticketFeed.Close()
	ticketFeed.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, snap, err := ticketFeed.ReadMessage(); err != nil || !strings.Contains(string(snap), `"snapshot"`) {
		t.Fatalf("snapshot: %s %v", snap, err)
	}
	draft, _, err := d.Dial("ws://"+addr+"/api/deflect/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer draft.Close()

	start := time.Now()
	cancel()
	var wg sync.WaitGroup
	for name, c := range map[string]*websocket.Conn{"ticket feed": ticketFeed, "draft socket": draft} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wantGoingAway(t, name, c)
		}()
	}
	wg.Wait()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve returned %v after the shutdown, want nil", err)
		}
	case <-time.After(cfg.ShutdownGrace + 5*time.Second):
		t.Fatal("serve did not return")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("shutdown took %v with every socket answering; want well under the grace period", took)
	}
	if s := logs.String(); !strings.Contains(s, `msg="shut down cleanly"`) || strings.Contains(s, "level=ERROR") {
		t.Errorf("log:\n%s", s)
	}
}

// startPortalProcess runs the portal (this test binary, through TestMain)
// with args and returns it, its address and its log.
func startPortalProcess(t *testing.T, args ...string) (*exec.Cmd, string, *testlog.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0", "--content", tinyContent(t), "--data", t.TempDir()}, args...)...)
	cmd.Env = append(os.Environ(), "PORTAL_TEST_RUN_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	logs := &testlog.Buffer{}
	addrc := make(chan string, 1)
	serving := regexp.MustCompile(`msg=serving url=http://(\S+)`)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(logs, sc.Text())
			if m := serving.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	select {
	case addr := <-addrc:
		return cmd, addr, logs
	case <-time.After(30 * time.Second):
		t.Fatalf("the portal is not serving after 30 s:\n%s", logs)
		return nil, "", nil
	}
}

// A request still running when the grace period ends (an upload that keeps
// trickling in) is cut and named in a warning, and the process still exits
// 0 soon after the grace period: a stop as configured is not a failure.
func TestSIGTERMWithSlowRequestExitsZeroAfterGrace(t *testing.T) {
	const grace = 500 * time.Millisecond
	cmd, addr, logs := startPortalProcess(t, "--shutdown-grace", grace.String())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /api/tickets HTTP/1.1\r\nHost: portal\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // one byte every 100 ms: never idle long enough to be cut for it
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := io.WriteString(c, " "); err != nil {
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v, want 0\n%s", err, logs)
		}
	case <-time.After(grace + 10*time.Second):
		t.Fatalf("still running %v after SIGTERM\n%s", time.Since(start), logs)
	}
	if took := time.Since(start); took < grace || took > grace+3*time.Second {
		t.Errorf("exited %v after SIGTERM, want just after the grace period (%v)", took.Round(time.Millisecond), grace)
	}
	time.Sleep(50 * time.Millisecond) // the last log lines
	if s := logs.String(); !strings.Contains(s, `level=WARN msg="shutdown grace period ran out; cut what was still running"`) ||
		!strings.Contains(s, `requests="[POST /api/tickets from 127.0.0.1:`) {
		t.Errorf("log lacks the cut request:\n%s", s)
	}
}

// The socket cap and the grace period come from flags or PORTAL_*
// variables; 0 sockets means no cap.
func TestSocketAndGraceSettings(t *testing.T) {
	t.Setenv("PORTAL_MAX_SOCKETS_PER_CLIENT", "")
	t.Setenv("PORTAL_SHUTDOWN_GRACE", "")
	cfg, err := parseServe(nil, nil)
	if err != nil || cfg.SocketsPerClient != 200 || cfg.ShutdownGrace != 10*time.Second {
		t.Fatalf("defaults: %d sockets, grace %v, %v; want 200 and 10s", cfg.SocketsPerClient, cfg.ShutdownGrace, err)
	}
	t.Setenv("PORTAL_MAX_SOCKETS_PER_CLIENT", "0")
	t.Setenv("PORTAL_SHUTDOWN_GRACE", "30s")
	cfg, err = parseServe([]string{"--shutdown-grace", "2m"}, nil)
	if err != nil || cfg.SocketsPerClient != 0 || cfg.ShutdownGrace != 2*time.Minute {
		t.Fatalf("environment and flag: %d sockets, grace %v, %v", cfg.SocketsPerClient, cfg.ShutdownGrace, err)
	}
	for _, bad := range [][]string{{"--max-sockets-per-client", "-1"}, {"--shutdown-grace", "soon"}, {"--shutdown-grace", "-1s"}} {
		if _, err := parseServe(bad, nil); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	t.Setenv("PORTAL_SHUTDOWN_GRACE", "ten")
	if _, err := parseServe(nil, nil); err == nil || !strings.Contains(err.Error(), "PORTAL_SHUTDOWN_GRACE") {
		t.Errorf("bad PORTAL_SHUTDOWN_GRACE: %v", err)
	}
}

// The publishing settings reach the running server: anonymous cloning and
// the webhook (which exists only with a secret).
func TestPublishingSettingsReachTheServer(t *testing.T) {
	cfg, err := parseServe([]string{"--content", tinyContent(t), "--data", t.TempDir(), "--addr", "127.0.0.1:0",
		"--anonymous-clone", "on", "--git-remote", "https://git.example/kb.git", "--git-webhook-secret", "s3cret"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr, cancel, served := startServe(t, cfg, slog.New(slog.DiscardHandler), nil)
	defer func() { cancel(); <-served }()
	res, err := http.Get("http://" + addr + "/content.git/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("anonymous clone: status %d, want 200", res.StatusCode)
	}
	res, err = http.Post("http://"+addr+"/api/hooks/git", "application/json", strings.NewReader(`{"ref":"refs/heads/main"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned webhook: status %d, want 401 (the route must exist)", res.StatusCode)
	}
	for _, bad := range [][]string{{"--anonymous-clone", "yes"}, {"--git-remote", "https://git.example/kb.git"}, {"--max-content-file", "0"}} {
		if _, err := parseServe(bad, nil); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
