package mailroute

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestTextHelpers(t *testing.T) {
	if got := cleanText("  a\r\nb\x00c\x1b\td\r"); got != "a\nbc\td" {
		t.Errorf("cleanText = %q", got)
	}
	if got := cleanText(strings.Repeat("ž", 25_000)); utf8.RuneCountInString(got) != 20_000 {
		t.Errorf("cleanText keeps %d characters, want 20000", utf8.RuneCountInString(got))
	}
	if got := cleanLine("  Re:\tExport\r\n  fails "); got != "Re: Export fails" {
		t.Errorf("cleanLine = %q", got)
	}
	long := "<mark>Reset</mark> your password &amp; sign in " + strings.Repeat("again and ", 30)
	got := snippetLine(long, "")
	if strings.ContainsAny(got, "<>") || !strings.HasPrefix(got, "Reset your password & sign in") ||
		utf8.RuneCountInString(got) > 162 || !strings.HasSuffix(got, "…") {
		t.Errorf("snippetLine = %q", got)
	}
	if got := snippetLine("", "The description."); got != "The description." {
		t.Errorf("snippetLine without a snippet = %q", got)
	}
	for id, want := range map[string]bool{"<a@b>": true, "<CAF1=x+y@mail.gmail.com>": true, "a@b": false, "<a b@c>": false,
		"<ab>": false, "<žluť@x>": false} {
		if validID(id) != want {
			t.Errorf("validID(%q) = %v", id, !want)
		}
	}
	for s, want := range map[string]bool{"Re: x": true, "AW: x": true, "RE:x": true, "Reset": false, "Question": false} {
		if hasReplyPrefix(s) != want {
			t.Errorf("hasReplyPrefix(%q) = %v", s, !want)
		}
	}
	if got := emlName(time.Date(2026, 12, 3, 10, 4, 5, 0, time.UTC)); got != "mail-2026-12-03-100405.eml" {
		t.Errorf("emlName = %q", got)
	}
}
