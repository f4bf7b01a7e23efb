package inbound

import (
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// flatText renders HTML token by token, without building a tree: block
// tags end lines, text is kept, scripts and styles dropped.
func flatText(src string) string {
	var r renderer
	z := html.NewTokenizer(strings.NewReader(src))
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidy(r.sb.String())
		case html.TextToken:
			if skip == 0 {
				r.text(string(z.Text()))
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title:
				if tt == html.StartTagToken {
					skip++
				} else if skip > 0 {
					skip--
				}
			case atom.Br:
				r.started = true
				r.newline()
			case atom.P, atom.Div, atom.Li, atom.Tr, atom.Blockquote, atom.H1, atom.H2, atom.H3, atom.Table, atom.Pre, atom.Hr:
				r.line()
			}
		}
	}
}

// renderNodes renders nodes (and their subtrees) in order as plain text:
// paragraphs, line breaks, list items ("- ", "1. "), quotes ("> ") and
// links as "text <url>", the way mail clients write their own plain-text
// alternative. Nothing of the HTML survives as markup: the result is text,
// never rendered as HTML.
func renderNodes(nodes []*html.Node) string {
	var r renderer
	for _, n := range nodes {
		r.node(n)
	}
	return tidy(r.sb.String())
}

// renderer accumulates text; it knows whether it stands at a line start and
// how deep in blockquotes it is.
type renderer struct {
	sb        strings.Builder
	lineStart bool
	started   bool
	quote     int
	pre       int
	lists     []int // per open list: -1 for <ul>, else the next number
	depth     int
}

// maxHTMLDepth bounds the recursion over an HTML tree, should the parser
// (which stops at 512 today) ever build deeper ones.
const maxHTMLDepth = 1024

func (r *renderer) newline() {
	r.sb.WriteByte('\n')
	r.lineStart = true
}

// line ends the current line, if any text stands on it.
func (r *renderer) line() {
	if r.started && !r.lineStart {
		r.newline()
	}
}

// para leaves a blank line before what follows.
func (r *renderer) para() {
	if !r.started {
		return
	}
	r.line()
	if !strings.HasSuffix(r.sb.String(), "\n\n") {
		r.newline()
	}
}

func (r *renderer) write(s string) {
	if s == "" {
		return
	}
	if !r.started || r.lineStart {
		if r.pre == 0 {
			s = strings.TrimLeft(s, " ")
			if s == "" {
				return
			}
		}
		r.sb.WriteString(strings.Repeat("> ", r.quote))
	}
	r.sb.WriteString(s)
	r.started = true
	r.lineStart = false
}

// collapseSpace turns each run of HTML white space into one space.
func collapseSpace(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	space := false
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' {
			space = true
			continue
		}
		if space {
			sb.WriteByte(' ')
			space = false
		}
		sb.WriteRune(r)
	}
	if space {
		sb.WriteByte(' ')
	}
	return sb.String()
}

func (r *renderer) text(s string) {
	if r.pre > 0 {
		for i, l := range strings.Split(s, "\n") {
			if i > 0 {
				r.newline()
				r.started = true
			}
			r.write(l)
		}
		return
	}
	s = collapseSpace(s)
	// A non-breaking space holds a line open (Outlook's empty paragraphs are
	// "&nbsp;"), but reads as a space.
	if strings.TrimSpace(s) == "" && strings.Contains(s, "\u00a0") {
		if !r.started || r.lineStart {
			r.sb.WriteString(strings.Repeat("> ", r.quote))
		}
		r.sb.WriteString(" ")
		r.started, r.lineStart = true, false
		return
	}
	s = strings.ReplaceAll(s, "\u00a0", " ")
	if r.lineStart || !r.started {
		s = strings.TrimLeft(s, " ")
	} else if strings.HasSuffix(r.sb.String(), " ") {
		s = strings.TrimLeft(s, " ")
	}
	r.write(s)
}

func (r *renderer) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		r.text(n.Data)
		return
	case html.DocumentNode:
		r.children(n)
		return
	case html.ElementNode:
	default:
		return
	}
	if hidden(n) {
		return
	}
	switch n.DataAtom {
	case atom.Head, atom.Script, atom.Style, atom.Title, atom.Template, atom.Img, atom.Svg, atom.Object, atom.Iframe:
		return
	case atom.Br:
		r.started = true
		r.newline()
	case atom.Hr:
		r.para()
	case atom.P:
		if hasClass(n, "MsoNormal") || hasClass(n, "MsoPlainText") {
			// Outlook writes every line as a paragraph without margins.
			r.line()
			r.children(n)
			r.line()
			return
		}
		r.para()
		r.children(n)
		r.para()
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Table, atom.Dl:
		r.para()
		r.children(n)
		r.para()
	case atom.Ul, atom.Ol:
		r.line()
		next := -1
		if n.DataAtom == atom.Ol {
			next = 1
			if s, err := strconv.Atoi(attr(n, "start")); err == nil {
				next = s
			}
		}
		r.lists = append(r.lists, next)
		r.children(n)
		r.lists = r.lists[:len(r.lists)-1]
		r.line()
	case atom.Li:
		r.line()
		if k := len(r.lists); k > 0 {
			r.write(strings.Repeat("  ", k-1))
			if r.lists[k-1] < 0 {
				r.write("- ")
			} else {
				r.write(strconv.Itoa(r.lists[k-1]) + ". ")
				r.lists[k-1]++
			}
		} else {
			r.write("- ")
		}
		r.children(n)
		r.line()
	case atom.Blockquote:
		r.line()
		r.quote++
		r.children(n)
		r.line()
		r.quote--
	case atom.Pre:
		r.line()
		r.pre++
		r.children(n)
		r.pre--
		r.line()
	case atom.A:
		before := r.sb.Len()
		r.children(n)
		href := strings.TrimSpace(attr(n, "href"))
		// The link's own text, without the quote marks of a new line.
		text := strings.TrimLeft(strings.TrimSpace(r.sb.String()[before:]), "> ")
		if linkShown(href, text) {
			r.text(" <" + href + ">")
		}
	case atom.Td, atom.Th:
		if r.started && !r.lineStart {
			r.text(" ")
		}
		r.children(n)
	case atom.Div, atom.Tr, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Center,
		atom.Dt, atom.Dd, atom.Address, atom.Figure, atom.Figcaption, atom.Main, atom.Nav, atom.Caption:
		r.line()
		r.children(n)
		r.line()
	default:
		r.children(n)
	}
}

func (r *renderer) children(n *html.Node) {
	if r.depth >= maxHTMLDepth {
		return
	}
	r.depth++
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		r.node(c)
	}
	r.depth--
}

// linkShown says whether a link's URL is written after its text: for web
// links whose text does not already say it.
func linkShown(href, text string) bool {
	l := strings.ToLower(href)
	if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
		return false
	}
	if text == "" {
		return true
	}
	bare := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(href, "https://"), "http://"), "/")
	t := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(text, "https://"), "http://"), "/")
	return t != bare
}

var displayNone = regexp.MustCompile(`(?i)display\s*:\s*none`)

// hidden says whether an element is never shown (preheaders, tracking).
func hidden(n *html.Node) bool {
	return displayNone.MatchString(attr(n, "style")) || hasAttr(n, "hidden")
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return true
		}
	}
	return false
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if strings.EqualFold(c, class) {
			return true
		}
	}
	return false
}

var blankLines = regexp.MustCompile(`\n{3,}`)

// tidy trims trailing spaces of lines, keeps at most one blank line in a
// row, and trims the text.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\u00a0")
	}
	s = strings.Join(lines, "\n")
	s = blankLines.ReplaceAllString(s, "\n\n")
	return strings.Trim(s, "\n")
}
