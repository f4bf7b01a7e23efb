package inbound

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// outlookBorder is the top border of Outlook's header block above the
// quoted mail (#E1E1E1 since Outlook 2013, #B5C4DF before).
var outlookBorder = regexp.MustCompile(`(?i)border-top\s*:\s*solid\s+#(e1e1e1|b5c4df)`)

// isCut says whether an element starts quoted history or a signature in
// the HTML of Gmail, Outlook, Apple Mail or Thunderbird.
func isCut(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	id := strings.ToLower(attr(n, "id"))
	switch {
	case hasClass(n, "gmail_quote"), hasClass(n, "gmail_quote_container"), hasClass(n, "gmail_signature"),
		hasClass(n, "gmail_signature_prefix"), hasClass(n, "gmail_attr"):
		return true
	case hasClass(n, "moz-cite-prefix"), hasClass(n, "moz-signature"), hasClass(n, "moz-forward-container"):
		return true
	case id == "divrplyfwdmsg", id == "appendonsend", id == "signature", id == "ms-outlook-mobile-signature":
		return true
	case n.DataAtom == atom.A && strings.EqualFold(attr(n, "name"), "_MailAutoSig"):
		return true
	case n.DataAtom == atom.Div && outlookBorder.MatchString(attr(n, "style")):
		return true
	case n.DataAtom == atom.Blockquote && strings.EqualFold(attr(n, "type"), "cite"):
		// Apple Mail and Thunderbird quote the history in a cite
		// blockquote; one followed by new text is an inline reply, kept.
		return !textAfter(n)
	}
	return false
}

// textAfter says whether any text follows n in document order outside
// other quotes.
func textAfter(n *html.Node) bool {
	for m := n; m != nil; m = m.Parent {
		for s := m.NextSibling; s != nil; s = s.NextSibling {
			if hasText(s) {
				return true
			}
		}
	}
	return false
}

func hasText(n *html.Node) bool {
	switch {
	case n.Type == html.TextNode:
		return strings.TrimSpace(strings.ReplaceAll(n.Data, "\u00a0", " ")) != ""
	case n.Type != html.ElementNode:
		return false
	case n.DataAtom == atom.Blockquote, n.DataAtom == atom.Script, n.DataAtom == atom.Style, n.DataAtom == atom.Head:
		return false
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if hasText(c) {
			return true
		}
	}
	return false
}

// firstCut is the first element, in document order, that starts quoted
// history or a signature.
func firstCut(n *html.Node) *html.Node {
	if isCut(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := firstCut(c); f != nil {
			return f
		}
	}
	return nil
}

// allCuts lists the outermost elements that start quoted history or a
// signature.
func allCuts(n *html.Node, out []*html.Node) []*html.Node {
	if isCut(n) {
		return append(out, n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = allCuts(c, out)
	}
	return out
}

// cutFrom removes n and everything after it in document order.
func cutFrom(n *html.Node) {
	for m := n; m.Parent != nil; m = m.Parent {
		for s := m.NextSibling; s != nil; {
			next := s.NextSibling
			m.Parent.RemoveChild(s)
			s = next
		}
	}
	n.Parent.RemoveChild(n)
}

// stripHTML returns the new text of an HTML-only body: the document cut at
// its first quote or signature element, made text, then stripped by the
// plain-text rules (which find the attribution line above an Apple Mail
// quote, a "-- " signature, mobile footers).
func stripHTML(src string) string {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return ""
	}
	full := renderNodes([]*html.Node{doc})
	if c := firstCut(doc); c != nil {
		cutFrom(c)
	}
	text := strip(renderNodes([]*html.Node{doc}), "")
	if strings.TrimSpace(text) == "" {
		// Nothing above the first quote: a reply below it, or a bare
		// forward; the plain-text rules handle both on the whole text.
		return strip(full, "")
	}
	return text
}

// htmlMarkers returns the first text line of each quote or signature
// element of an HTML body, to find the same places in its plain-text twin.
func htmlMarkers(src string) []string {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range allCuts(doc, nil) {
		if c.DataAtom == atom.A {
			// Outlook's signature bookmark is empty: the signature is the
			// rest of its paragraph.
			c = c.Parent
		}
		text := renderNodes([]*html.Node{c})
		first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
		if first = strings.TrimSpace(first); first != "" && first != "--" {
			out = append(out, first)
		}
	}
	return out
}
