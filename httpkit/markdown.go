package httpkit

import (
	"html/template"

	"github.com/orbitask/portal/safemd"
)

// Markdown renders a message's Markdown as safe HTML: the template function
// `markdown` of both front ends, and the "html" of support's messages in
// the API. The mails render it with the same package (safemd).
func Markdown(s string) template.HTML {
	return template.HTML(safemd.HTML(s)) // safemd escapes text and drops raw HTML and unsafe link schemes
}
