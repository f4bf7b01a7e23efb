package telemetry

import (
	"io"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkRequest is what every HTTP request pays: a counter and a
// histogram observation under its route's labels.
func BenchmarkRequest(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Request("/kb/:lang/*", "GET", 200, 3*time.Millisecond)
		}
	})
}

// BenchmarkScrape is one scrape of /metrics with a realistic number of
// series: 40 routes by 3 statuses, every search kind and outcome, the
// gauges and the Go and process collectors.
func BenchmarkScrape(b *testing.B) {
	m := New()
	for r := range 40 {
		for _, code := range []int{200, 404, 500} {
			m.Request("/route/"+string(rune('a'+r%26))+string(rune('a'+r/26)), "GET", code, time.Millisecond)
		}
	}
	for _, k := range searchKinds {
		m.Search(k, time.Millisecond)
	}
	m.LiveConnections(func() int { return 12 })
	m.SearchIndex(func() (int64, int) { return 1 << 20, 500 })
	m.LastPublish(time.Now)
	h := m.Handler(nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
		io.Copy(io.Discard, w.Body)
	}
}
