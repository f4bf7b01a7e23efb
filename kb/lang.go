package kb

import (
	"strings"

	"github.com/orbitask/portal/langtag"
)

// langFromPath returns the language named by the first directory of rel
// (e.g. "de/account/reset.md" → "de"), or "" if it names none.
func langFromPath(rel string) string {
	first, _, ok := strings.Cut(rel, "/")
	if !ok || len(first) < 2 || len(first) > 7 {
		return ""
	}
	if l, ok := langtag.Normalize(first); ok {
		return l
	}
	return ""
}
