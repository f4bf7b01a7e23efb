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

// htmlDoc is a parsed HTML body with, for each node, where its subtree
// ends in document order, so that "is there text after this quote?" costs
// one lookup however many quotes a mail has.
type htmlDoc struct {
	root     *html.Node
	end      map[*html.Node]int
	lastText int // the index of the last visible text outside quotes
}

func parseHTML(src string) (*htmlDoc, error) {
	root, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return nil, err
	}
	d := &htmlDoc{root: root, end: map[*html.Node]int{}, lastText: -1}
	i := 0
	var walk func(n *html.Node, quoted bool, depth int)
	walk = func(n *html.Node, quoted bool, depth int) {
		i++
		switch {
		case n.Type == html.TextNode:
			if !quoted && strings.TrimSpace(strings.ReplaceAll(n.Data, "\u00a0", " ")) != "" {
				d.lastText = i
			}
		case n.Type == html.ElementNode && (n.DataAtom == atom.Script || n.DataAtom == atom.Style || n.DataAtom == atom.Head):
			quoted = true // never shown: counts as no text
		case n.Type == html.ElementNode && n.DataAtom == atom.Blockquote:
			quoted = true
		}
		if depth < maxHTMLDepth {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c, quoted, depth+1)
			}
		}
		d.end[n] = i
	}
	walk(root, false, 0)
	return d, nil
}

// isCut says whether an element starts quoted history or a signature in
// the HTML of Gmail, Outlook, Apple Mail or Thunderbird.
func (d *htmlDoc) isCut(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	// Outlook on the web prefixes the ids of a quoted mail's own elements
	// with "x_" when it quotes them again.
	id := strings.TrimPrefix(strings.ToLower(attr(n, "id")), "x_")
	switch {
	case hasClass(n, "gmail_quote"), hasClass(n, "gmail_quote_container"), hasClass(n, "gmail_signature"),
		hasClass(n, "gmail_signature_prefix"), hasClass(n, "gmail_attr"):
		return true
	case hasClass(n, "moz-cite-prefix"), hasClass(n, "moz-signature"), hasClass(n, "moz-forward-container"):
		return true
	case id == "divrplyfwdmsg", id == "appendonsend", id == "signature", id == "ms-outlook-mobile-signature",
		id == "mail-editor-reference-message-container", hasClass(n, "OutlookMessageHeader"):
		return true
	case hasClass(n, "yahoo_quoted"), hasClass(n, "protonmail_quote"), hasClass(n, "protonmail_signature_block"):
		return true
	case n.DataAtom == atom.A && strings.EqualFold(attr(n, "name"), "_MailAutoSig"):
		return true
	case n.DataAtom == atom.Div && outlookBorder.MatchString(attr(n, "style")):
		return true
	case n.DataAtom == atom.Blockquote && strings.EqualFold(attr(n, "type"), "cite"):
		// Apple Mail and Thunderbird quote the history in a cite
		// blockquote; one followed by new text is an inline reply, kept.
		return d.lastText <= d.end[n]
	}
	return false
}

// cuts lists the outermost elements that start quoted history or a
// signature, in document order.
func (d *htmlDoc) cuts(n *html.Node, out []*html.Node, depth int) []*html.Node {
	if d.isCut(n) {
		return append(out, n)
	}
	if depth >= maxHTMLDepth {
		return out
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = d.cuts(c, out, depth+1)
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

// stripHTML reads an HTML-only body: full is all of it made text, text
// its new text: the document cut at its first quote or signature element,
// made text, then stripped by the plain-text rules (which find the
// attribution line above an Apple Mail quote, a "-- " signature, mobile
// footers).
func stripHTML(src string) (text, full string) {
	d, err := parseHTML(src)
	if err != nil {
		full = flatText(src)
		return strip(full, ""), full
	}
	full = renderNodes([]*html.Node{d.root})
	cs := d.cuts(d.root, nil, 0)
	if len(cs) == 0 {
		return strip(full, ""), full
	}
	cutFrom(cs[0])
	text = strip(renderNodes([]*html.Node{d.root}), "")
	if strings.TrimSpace(text) == "" {
		// Nothing above the first quote: a reply below it, or a bare
		// forward; the plain-text rules handle both on the whole text.
		text = strip(full, "")
	}
	return text, full
}

// isSignature says whether a cut element is a signature (not a quote).
func isSignature(n *html.Node) bool {
	id := strings.TrimPrefix(strings.ToLower(attr(n, "id")), "x_")
	return hasClass(n, "gmail_signature") || hasClass(n, "gmail_signature_prefix") || hasClass(n, "moz-signature") || hasClass(n, "protonmail_signature_block") ||
		id == "signature" || id == "ms-outlook-mobile-signature" || n.DataAtom == atom.A
}

// htmlMarkers returns the first text line of each quote element and of
// each signature element of an HTML body, to find the same places in its
// plain-text twin.
func htmlMarkers(src string) (quotes, signatures []string) {
	d, err := parseHTML(src)
	if err != nil {
		return nil, nil
	}
	for _, c := range d.cuts(d.root, nil, 0) {
		if c.DataAtom == atom.Blockquote {
			// Its first line is the first quoted line, as ordinary as
			// "Hello,"; the plain text marks it with ">" anyway.
			continue
		}
		sig := isSignature(c)
		if c.DataAtom == atom.A {
			// Outlook's signature bookmark holds (at most) the first words:
			// the signature's first line is its paragraph.
			c = c.Parent
		}
		text := renderNodes([]*html.Node{c})
		first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
		if first = strings.TrimSpace(first); first == "" || first == "--" {
			continue
		}
		if sig {
			signatures = append(signatures, first)
		} else {
			quotes = append(quotes, first)
		}
	}
	return quotes, signatures
}
