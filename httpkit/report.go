package httpkit

import (
	"log/slog"
	"time"

	"github.com/orbitask/portal/ratelimit"
)

// Reporter picks the level of a client's refusals: WARN for the first in
// ratelimit.ReportEvery per client (its ClientKey, as the rate limits key
// it), DEBUG for the rest, so a client hammering a limit is one warning a
// minute, not a flood. Its memory is bounded as the rate limits' is: it is
// one (a bucket of one report a minute per client).
type Reporter struct{ lim *ratelimit.Limiter }

// NewReporter returns a Reporter that has reported nobody yet.
func NewReporter() *Reporter {
	return &Reporter{lim: ratelimit.New(ratelimit.Rule{Burst: 1, Every: ratelimit.ReportEvery}, 0)}
}

// Level is the level of a refusal of client (a ClientIP) now.
func (r *Reporter) Level(client string) slog.Level {
	if r.lim.Allow(ClientKey(client), time.Now()).OK {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}
