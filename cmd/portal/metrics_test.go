package main

import (
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/internal/testlog"
	"github.com/orbitask/portal/internal/testportal"
)

func TestMetricsAddrFlagAndEnvironment(t *testing.T) {
	t.Setenv("PORTAL_METRICS_ADDR", "")
	if cfg, err := parseServe(nil, nil); err != nil || cfg.MetricsAddr != "" {
		t.Fatalf("default: %q %v, want none", cfg.MetricsAddr, err)
	}
	t.Setenv("PORTAL_METRICS_ADDR", "127.0.0.1:9090")
	if cfg, err := parseServe(nil, nil); err != nil || cfg.MetricsAddr != "127.0.0.1:9090" {
		t.Fatalf("from the environment: %q %v", cfg.MetricsAddr, err)
	}
	if cfg, err := parseServe([]string{"--metrics-addr", "[::1]:9100"}, nil); err != nil || cfg.MetricsAddr != "[::1]:9100" {
		t.Fatalf("the flag wins: %q %v", cfg.MetricsAddr, err)
	}
	if _, err := parseServe([]string{"--metrics-addr", "9090"}, nil); err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Errorf("a port without a host: %v", err)
	}
}

// With --metrics-addr, the metrics are served there without a token (the
// main address still wants an operator's), and the listener stops with the
// portal.
func TestMetricsAddrServesWithoutAuthentication(t *testing.T) {
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	cfg := Config{Addr: "127.0.0.1:0", Content: tinyContent(t), Data: t.TempDir(), SearchCache: 100,
		ShutdownGrace: 5 * time.Second, MetricsAddr: "127.0.0.1:0"}
	addr, cancel, served := startServe(t, cfg, log, logs)
	defer cancel()
	m := regexp.MustCompile(`msg="serving metrics without authentication" url=(\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no metrics address in the log:\n%s", logs)
	}
	metricsURL := m[1]
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a loopback metrics address warned:\n%s", logs)
	}

	fileTicket(t, addr)
	res, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	scrape := testportal.ParseMetrics(t, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", metricsURL, res.StatusCode)
	}
	scrape.Want(t, 1, "portal_tickets_filed_total")
	scrape.Want(t, 1, "portal_http_requests_total", "route", "/api/tickets", "method", "POST", "code", "201")
	// Only /metrics is there.
	res, err = http.Get(strings.TrimSuffix(metricsURL, "/metrics") + "/api/tickets/1001")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("another path on the metrics address: %d, want 404", res.StatusCode)
	}
	// The profiler is there, and only there: it shows the process's
	// internals.
	res, err = http.Get(strings.TrimSuffix(metricsURL, "/metrics") + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Errorf("/debug/pprof/ on the metrics address: %d %.200s", res.StatusCode, body)
	}
	res, err = http.Get(strings.TrimSuffix(metricsURL, "/metrics") + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap profile") {
		t.Errorf("/debug/pprof/heap on the metrics address: %d %.200s", res.StatusCode, body)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/cmdline"} {
		res, err = http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || strings.Contains(string(body), "goroutine") {
			t.Errorf("%s on the public address: %d %.200s, want 404", path, res.StatusCode, body)
		}
	}

	// The main address wants a token.
	res, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "portal_") {
		t.Errorf("/metrics on the main address without a token: %d %.200s", res.StatusCode, body)
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return")
	}
	if _, err := http.Get(metricsURL); err == nil {
		t.Error("the metrics address still answers after the shutdown")
	}
}
