package httpkit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/orbitask/portal/internal/testlog"
)

// One client holds at most its share: its second request beyond it waits
// and gets ErrUploading, while another client takes the rest at once; the
// first request's release lets the client's waiting one through. A client
// holding nothing may take more than its share.
func TestBudgetSharePerClient(t *testing.T) {
	ctx := context.Background()
	b := NewBudget(100, 40)
	relA, err := b.Acquire(ctx, "a", 40, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Acquire(ctx, "a", 10, 200*time.Millisecond); !errors.Is(err, ErrUploading) {
		t.Fatalf("a's second request beyond its share: %v, want ErrUploading", err)
	}
	relB, err := b.Acquire(ctx, "b", 40, 0)
	if err != nil {
		t.Fatalf("another client, with room in the budget: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		rel, err := b.Acquire(ctx, "a", 10, 10*time.Second)
		if err == nil {
			rel()
		}
		got <- err
	}()
	relA()
	relA() // once, however often
	if err := <-got; err != nil {
		t.Fatalf("a's request after its first was released: %v", err)
	}
	relBig, err := b.Acquire(ctx, "c", 60, 0)
	if err != nil {
		t.Fatalf("a client holding nothing, one request over its share: %v", err)
	}
	// The whole budget is short now: that is ErrBusy, not the share.
	if _, err := b.Acquire(ctx, "d", 10, 100*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("a full budget: %v, want ErrBusy", err)
	}
	relB()
	relBig()
	if n := b.InUse(); n != 0 {
		t.Errorf("%d bytes in use after every release", n)
	}
}

// More than the whole budget is refused at once, not capped: a request
// charged less than it allocates would break the bound.
func TestBudgetRefusesMoreThanItHolds(t *testing.T) {
	b := NewBudget(100, 0)
	start := time.Now()
	if _, err := b.Acquire(context.Background(), "a", 101, 10*time.Second); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("101 bytes of 100: %v, want ErrBodyTooLarge", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("refused after %v, want at once", waited)
	}
	if n := b.InUse(); n != 0 {
		t.Errorf("%d bytes in use", n)
	}
}

// budgetApp serves POST /upload, which takes its Content-Length from b
// (Budget.Take) and reads the body, with the pace of timeouts.
func budgetApp(t *testing.T, b *Budget, timeouts Timeouts) (string, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	app := NewApp(Config{Logger: slog.New(slog.NewTextHandler(logs, nil)), Timeouts: timeouts}, nil)
	app.Post("/upload", func(c *fiber.Ctx) error {
		release, err := b.Take(c, int64(c.Request().Header.ContentLength()), time.Second)
		if err != nil {
			return err
		}
		defer release()
		n, err := io.Copy(io.Discard, c.Request().BodyStream())
		if err != nil {
			return fmt.Errorf("upload: %w", err)
		}
		return c.SendString("got " + strconv.FormatInt(n, 10))
	})
	return serveForTest(t, app), logs
}

// paceTimeouts: a minimum rate of 8 KiB/s from the first second on, and an
// idle limit far above the gaps of the tests' trickles, so that only the
// pace can cut them.
var paceTimeouts = Timeouts{Header: 5 * time.Second, BodyIdle: 10 * time.Second, KeepAlive: 10 * time.Second,
	BodyMinRate: 8 << 10, BodyMinTime: time.Second}

// A body holding budget that keeps coming, but below the minimum rate, is
// cut once it falls behind (here at about a second, long before the idle
// limit), answered 408, logged at WARN once, and its budget given back.
func TestSlowBodyHoldingBudgetIsCut(t *testing.T) {
	b := NewBudget(1<<20, 0)
	addr, logs := budgetApp(t, b, paceTimeouts)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// 16 KiB at once (the server reads 8 KiB before the handler runs),
	// then 1 KB/s, an eighth of the minimum, until the server closes.
	fmt.Fprintf(c, "POST /upload?token=s3cret HTTP/1.1\r\nHost: portal\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n%s",
		100000, strings.Repeat("x", 16<<10))
	start := time.Now()
	go func() {
		for {
			time.Sleep(100 * time.Millisecond)
			if _, err := io.WriteString(c, strings.Repeat("x", 100)); err != nil {
				return
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(8 * time.Second))
	status, body := readResponse(t, bufio.NewReader(c))
	took := time.Since(start)
	if status != http.StatusRequestTimeout {
		t.Fatalf("a body at 1 KB/s: %d %q after %v, want 408", status, body, took)
	}
	if took < paceTimeouts.BodyMinTime-100*time.Millisecond {
		t.Errorf("cut after %v, before the minimum time %v", took, paceTimeouts.BodyMinTime)
	}
	if n := b.InUse(); n != 0 {
		t.Errorf("%d bytes of budget still held after the cut", n)
	}
	s := logs.String()
	if n := strings.Count(s, `level=WARN msg="request cut: body too slow"`); n != 1 {
		t.Errorf("%d warnings for the cut, want 1:\n%s", n, s)
	}
	for _, want := range []string{"client=127.0.0.1", "path=/upload", "content_length=100000"} {
		if !strings.Contains(s, want) {
			t.Errorf("log lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "s3cret") || strings.Contains(s, "level=ERROR") || strings.Contains(s, "body stalled") {
		t.Errorf("log has the token, an ERROR or a stall:\n%s", s)
	}
}

// A body at several times the minimum rate is read whole however long it
// takes: 120 KB at 30 KB/s (the 240 kbit/s uplink) for 4 s, four times the
// minimum time. The pieces go out on a schedule, so a loaded machine that
// wakes the writer late does not lower the average.
func TestSlowUplinkAboveMinRateIsRead(t *testing.T) {
	b := NewBudget(1<<20, 0)
	addr, logs := budgetApp(t, b, paceTimeouts)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const size, piece, gap = 120000, 3000, 100 * time.Millisecond
	fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: portal\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", size)
	writeOnSchedule(t, c, size, piece, gap)
	c.SetReadDeadline(time.Now().Add(8 * time.Second))
	if status, body := readResponse(t, bufio.NewReader(c)); status != http.StatusOK || body != "got "+strconv.Itoa(size) {
		t.Fatalf("a body at 30 KB/s: %d %q, want 200 and all of it", status, body)
	}
	if s := logs.String(); strings.Contains(s, "request cut") {
		t.Errorf("a body above the minimum rate was cut:\n%s", s)
	}
}

// writeOnSchedule writes size bytes to w, piece bytes every gap: piece i
// at i×gap from the start, at once when it is late.
func writeOnSchedule(t *testing.T, w io.Writer, size, piece int, gap time.Duration) {
	t.Helper()
	start := time.Now()
	for i, sent := 0, 0; sent < size; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * gap)))
		n := min(piece, size-sent)
		if _, err := w.Write([]byte(strings.Repeat("x", n))); err != nil {
			t.Fatalf("writing the body: %v", err)
		}
		sent += n
	}
}
