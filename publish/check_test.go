package publish

import (
	"fmt"
	"strings"
	"testing"

	"github.com/orbitask/portal/kb"
)

// Every problem is told, one per line, then a count; past maxMessages the
// rest is summarised rather than flooding the writer's terminal.
func TestProblemLines(t *testing.T) {
	two := []kb.Problem{{Path: "en/a.md", Line: 1, Message: "missing title in front matter"}, {Path: "en/b.md", Line: 4, Message: "broken link"}}
	got := problemLines(two)
	want := []string{"en/a.md:1: missing title in front matter", "en/b.md:4: broken link", "2 problems found; fix them, commit, and push again"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := problemLines(two[:1]); got[len(got)-1] != "1 problem found; fix them, commit, and push again" {
		t.Errorf("one problem: %q", got)
	}
	if got := problemLines(nil); len(got) != 0 {
		t.Errorf("no problems: %q", got)
	}
	var many []kb.Problem
	for i := 0; i < maxMessages+7; i++ {
		many = append(many, kb.Problem{Path: fmt.Sprintf("en/%d.md", i), Line: 1, Message: "x"})
	}
	got = problemLines(many)
	if len(got) != maxMessages+2 || !strings.Contains(got[maxMessages], "and 7 more problems") || !strings.HasPrefix(got[maxMessages+1], fmt.Sprint(maxMessages+7)) {
		t.Errorf("many problems: %d lines, %q, %q", len(got), got[maxMessages], got[len(got)-1])
	}
}
