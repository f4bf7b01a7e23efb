// Package fields is the error for input that is refused field by field:
// every domain package reports bad input with it, and the HTTP layer turns it
// into one 422 answer naming the fields.
package fields

import (
	"sort"
	"strings"
)

// Error lists every field at fault with what is wrong with it, keyed by the
// field's name as the caller knows it (a form field, a JSON key). Nothing is
// stored when it is returned.
type Error struct {
	Fields map[string]string
}

func (e *Error) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return "invalid: " + strings.Join(parts, "; ")
}
