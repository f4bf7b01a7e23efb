package search

import "testing"

// TestNormalizeQuery: queries that mean the same normalise the same,
// whatever their case, plural and stop words; the words keep their order.
func TestNormalizeQuery(t *testing.T) {
	ix := openFixture(t)
	for _, c := range []struct{ lang, q, want string }{
		{"en", "The printers are  OFFLINE", "printer offlin"},
		{"en", "printer offline", "printer offlin"},
		{"en", "offline printer", "offlin printer"},
		{"en", "the of and", ""},
		{"en-GB", "Printers", "printer"},
		{"de", "Die Drucker", "druck"},
		{"", "the printers", "printer"},
	} {
		if got := ix.NormalizeQuery(c.lang, c.q); got != c.want {
			t.Errorf("NormalizeQuery(%q, %q) = %q, want %q", c.lang, c.q, got, c.want)
		}
	}
	// All languages: a stop word of any language goes ("die" in German).
	if got := ix.NormalizeQuery("", "die printers"); got != "printer" {
		t.Errorf("all languages: %q, want %q", got, "printer")
	}
}
