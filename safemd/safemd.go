// Package safemd renders the Markdown of ticket messages to HTML with raw
// HTML left out, for the ticket pages and the mails alike, so that a
// message reads the same in both.
package safemd

import (
	"bytes"
	"html"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
)

// renderer is configured once and never changed: state only in name.
// GitHub-flavoured Markdown, a line break where the writer pressed Enter
// (messages are typed in a text box, not written as documents), and
// goldmark's defaults: raw HTML dropped and links with unsafe schemes
// (javascript:, vbscript:, data: other than images) emptied, so that
// neither a customer nor an agent can put markup or script into a page or
// a mail.
var renderer = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithRendererOptions(gmhtml.WithHardWraps()),
)

// HTML renders a message's Markdown as HTML that is safe to put into a page
// or a mail as it is. Should goldmark fail, the text comes back escaped.
func HTML(s string) string {
	var buf bytes.Buffer
	if err := renderer.Convert([]byte(s), &buf); err != nil {
		return html.EscapeString(s)
	}
	return buf.String()
}
