package web

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/orbitask/portal/insights"
)

// TestDraftWithNoGoodMatchIsAContentGap: a draft that matches nothing is
// answered with no suggestion, recorded in its deflection session as a
// draft with no good match, and listed as such in the operators' content
// gaps; a draft that found its article is not.
func TestDraftWithNoGoodMatchIsAContentGap(t *testing.T) {
	p := newPortal(t, Config{})
	ctx := context.Background()
	draft := func(subject, body string) draftOut {
		t.Helper()
		b, _ := json.Marshal(draftIn{Subject: subject, Body: body, Lang: "en"})
		res, out := p.postJSON(t, "/api/deflect", string(b))
		wantStatus(t, res, 200)
		var d draftOut
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		// Writes the session's intent, which a burst of typing holds back.
		if _, err := p.svc.Deflect.Trail(ctx, d.Session); err != nil {
			t.Fatal(err)
		}
		return d
	}
	gap := draft("Quarkly zibberflax", "The zibberflax quarkles every night.")
	if len(gap.Suggestions) != 0 {
		t.Fatalf("a draft about nothing the knowledge base has got %+v", gap.Suggestions)
	}
	trail, err := p.svc.Deflect.Trail(ctx, gap.Session)
	if err != nil {
		t.Fatal(err)
	}
	if last := trail[len(trail)-1]; !last.NoGoodMatch() || last.Query != "Quarkly zibberflax\nThe zibberflax quarkles every night." {
		t.Fatalf("last event %+v, want the draft with no good match", last)
	}
	if found := draft("Forgot my password", "I cannot reset my password"); len(found.Suggestions) == 0 {
		t.Fatal("the password draft found nothing")
	}

	gaps, err := p.svc.Insights.Gaps(ctx, insights.LastDays(time.Now(), 1), 0)
	if err != nil {
		t.Fatal(err)
	}
	var noMatch []insights.Gap
	for _, g := range gaps {
		if g.Kind == insights.GapNoGoodMatch {
			noMatch = append(noMatch, g)
		}
	}
	if len(noMatch) != 1 || noMatch[0].Count != 1 || len(noMatch[0].Examples) != 1 || noMatch[0].Examples[0] != "Quarkly zibberflax" {
		t.Errorf("no good match gaps = %+v, want the one draft, by its subject", noMatch)
	}
}
