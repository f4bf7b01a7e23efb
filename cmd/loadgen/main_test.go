package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Open loop: a server that stalls delays the requests due meanwhile, and
// their latencies count from when they were due; none is left out, not
// even those due before the end but sent after it.
func TestOpenLoopCountsTheStallOfEveryRequestDueDuringIt(t *testing.T) {
	for _, stallAt := range []int64{1, 90} {
		t.Run(fmt.Sprintf("stall at request %d", stallAt), func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == stallAt {
					time.Sleep(400 * time.Millisecond)
				}
				w.Write([]byte(`{"hits":[]}`))
			}))
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			req := []byte("GET /api/search?q=x HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
			lg := loadgen{host: host, reqs: [][]byte{req}, clients: 1, rate: 100}
			r := lg.run(time.Second)
			if r.errs != 0 || r.unsent != 0 {
				t.Fatalf("%d errors, %d unsent", r.errs, r.unsent)
			}
			if len(r.lat) != 100 {
				t.Errorf("%d requests measured, want the 100 due in a second at 100/s", len(r.lat))
			}
			// Due in the first quarter of the stall (or, at 90, the last
			// ten): waited 200 ms or more each.
			slow := 0
			for _, d := range r.lat {
				if d >= 200*time.Millisecond {
					slow++
				}
			}
			if slow < 8 {
				t.Errorf("%d requests took 200 ms or more, want those due in the stall: %v", slow, r.lat)
			}
		})
	}
}
