package httpkit

import (
	"bytes"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// messageMarkdown renders support's messages, on the console, on the
// customer's page and in the live feed. It is configured once and never
// changed: state only in name.
var messageMarkdown = newMarkdown()

// newMarkdown is the renderer of messages: GitHub-flavoured Markdown with
// raw HTML left out (goldmark's default), so that neither a customer nor an
// agent can put markup or script into a page.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithHardWraps()))
}

// Markdown renders a message's Markdown as safe HTML: the template function
// `markdown` of both front ends, and the "html" of support's messages in
// the API.
func Markdown(s string) template.HTML {
	var buf bytes.Buffer
	if err := messageMarkdown.Convert([]byte(s), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(s))
	}
	return template.HTML(buf.String()) // goldmark escapes text and drops raw HTML and unsafe link schemes
}
