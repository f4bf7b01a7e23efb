package telemetry

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func gather(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// Two portals in one process keep their own figures (no global registry),
// and a gauge read at scrape appears once its source is set, not as a
// misleading 0 before.
func TestPortalsKeepTheirOwnMetrics(t *testing.T) {
	a, b := New(), New()
	a.TicketFiled()
	a.TicketFiled()
	b.Deflection("solved")
	fa, fb := gather(t, a), gather(t, b)
	if v := fa["portal_tickets_filed_total"].GetMetric()[0].GetCounter().GetValue(); v != 2 {
		t.Errorf("a: tickets filed %v, want 2", v)
	}
	if v := fb["portal_tickets_filed_total"].GetMetric()[0].GetCounter().GetValue(); v != 0 {
		t.Errorf("b: tickets filed %v, want 0", v)
	}
	if n := len(fa["portal_deflections_total"].GetMetric()); n != 3 {
		t.Errorf("a: %d deflection outcomes, want each of the three at 0", n)
	}
	for _, name := range []string{"portal_live_connections", "portal_search_index_bytes", "portal_last_publish_timestamp_seconds"} {
		if fa[name] != nil {
			t.Errorf("%s before its source is set", name)
		}
	}
	published := time.Date(2026, 11, 3, 10, 0, 0, 500e6, time.UTC)
	a.LiveConnections(func() int { return 7 })
	a.SearchIndex(func() (int64, int) { return 4096, 12 })
	a.LastPublish(func() time.Time { return published })
	fa = gather(t, a)
	for name, want := range map[string]float64{"portal_live_connections": 7, "portal_search_index_bytes": 4096,
		"portal_search_articles": 12, "portal_last_publish_timestamp_seconds": float64(published.Unix()) + 0.5} {
		if f := fa[name]; f == nil || f.GetMetric()[0].GetGauge().GetValue() != want {
			t.Errorf("%s = %v, want %v", name, f.GetMetric(), want)
		}
	}
}
