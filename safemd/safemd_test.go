package safemd

import (
	"strings"
	"testing"
)

// TestHTML: Markdown becomes HTML (GFM, hard wraps), while raw HTML, script
// and unsafe link schemes never reach the output.
func TestHTML(t *testing.T) {
	for _, tc := range []struct {
		name, in    string
		has, hasNot []string
	}{
		{"emphasis and code", "Use **`--force`** here.", []string{"<strong><code>--force</code></strong>"}, nil},
		{"hard wrap", "line one\nline two", []string{"line one<br>\nline two"}, nil},
		{"GFM table", "| a | b |\n|---|---|\n| 1 | 2 |", []string{"<table>", "<td>1</td>"}, nil},
		{"GFM autolink", "see https://example.com/x", []string{`<a href="https://example.com/x">`}, nil},
		{"GFM strikethrough", "~~old~~", []string{"<del>old</del>"}, nil},
		{"raw HTML dropped", "hi <script>alert(1)</script> <img src=x onerror=alert(1)>", []string{"hi"},
			[]string{"<script", "<img", "onerror"}},
		{"HTML block dropped", "<div onclick=\"x()\">boom</div>", nil, []string{"<div", "onclick"}},
		{"javascript link emptied", "[click](javascript:alert(1))", []string{">click</a>"}, []string{"javascript:"}},
		{"vbscript link emptied", "[click](vbscript:msgbox)", nil, []string{"vbscript:"}},
		{"text escaped", "a < b & c > d", []string{"a &lt; b &amp; c &gt; d"}, nil},
		{"quotes in link title escaped", `[x](https://e.example "a\"><script>")`, nil, []string{"<script>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := HTML(tc.in)
			for _, s := range tc.has {
				if !strings.Contains(got, s) {
					t.Errorf("HTML(%q) = %q, lacks %q", tc.in, got, s)
				}
			}
			for _, s := range tc.hasNot {
				if strings.Contains(got, s) {
					t.Errorf("HTML(%q) = %q, has %q", tc.in, got, s)
				}
			}
		})
	}
}
