// Package testportal opens the portal's services for the HTTP packages'
// tests through app.Open, as `portal serve` does, on a temporary data
// directory and with test settings: cheap password hashes (tests sign in
// often) and a 20 ms live feed.
package testportal

import (
	"log/slog"
	"testing"
	"time"

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/ticketfeed"
)

// FeedInterval is how often the tests' feed looks for changes made by
// other processes.
const FeedInterval = 20 * time.Millisecond

// Open loads the knowledge base in content (which must have no problems)
// and opens the services on a temporary directory, with live as the ticket
// feed's encoders; they are closed when the test ends.
func Open(t testing.TB, content string, live ticketfeed.Encoders) *app.App {
	t.Helper()
	return OpenIn(t, content, t.TempDir(), live, nil)
}

// OpenIn is Open on the data directory data, logging to log (nil
// discards), for tests that start a portal twice on the same data.
func OpenIn(t testing.TB, content, data string, live ticketfeed.Encoders, log *slog.Logger) *app.App {
	t.Helper()
	k, err := kb.Load(content)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Problems) > 0 {
		t.Fatalf("problems in %s: %v", content, k.Problems)
	}
	a, err := app.Open(app.Config{Data: data, Content: content, Logger: log, FeedInterval: FeedInterval, Live: live,
		HashMemoryKiB: 64, HashTime: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}
