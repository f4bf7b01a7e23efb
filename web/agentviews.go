package web

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"

	"github.com/orbitask/portal/langtag"
	"github.com/orbitask/portal/tickets"
)

// The console's pages have a frame of their own (templates/agent/layout),
// separate from the customer pages': staff navigation instead of the
// knowledge base's search and languages.

// agentViews holds one template set per console page.
type agentViews struct {
	pages map[string]*template.Template
}

func parseAgentViews(as *assets, md goldmark.Markdown) (*agentViews, error) {
	funcs := template.FuncMap{
		"asset":    as.url,
		"langName": langtag.Name,
		"markdown": func(s string) template.HTML { return renderMarkdown(md, s) },
		"utc":      func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z07:00") },
		"when":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") },
		"left":     workingLeft,
		"status":   func(s tickets.Status) string { return statusLabels[s] },
		"plan":     func(p tickets.Plan) string { return planLabels[p] },
		"severity": severityName,
	}
	pages, err := parsePages(funcs, "templates/agent/layout/*.html", "templates/agent/*.html")
	if err != nil {
		return nil, err
	}
	return &agentViews{pages: pages}, nil
}

// agentLayout is what the console's frame needs.
type agentLayout struct {
	Title    string
	User     string // the signed-in staff member's name; "" on the login page
	Role     string
	CSRF     string
	Operator bool // shows the operator's links
	Section  string
}

func (h *handler) agentLayout(c *fiber.Ctx, title string) agentLayout {
	s := currentStaff(c)
	return agentLayout{Title: title, User: s.User.Name, Role: string(s.User.Role), CSRF: s.CSRF,
		Operator: s.User.Role == "operator"}
}

// renderAgent renders a console page; with fragment set, only the named
// template (a part the page's script swaps in after a live change).
func (h *handler) renderAgent(c *fiber.Ctx, status int, page string, data any) error {
	return h.renderAgentPart(c, status, page, "layout", data)
}

func (h *handler) renderAgentPart(c *fiber.Ctx, status int, page, part string, data any) error {
	t, ok := h.agentViews.pages[page]
	if !ok {
		return fmt.Errorf("web: no agent template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, part, data); err != nil {
		return fmt.Errorf("web: render agent %s: %w", page, err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

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

func renderMarkdown(md goldmark.Markdown, s string) template.HTML {
	var buf bytes.Buffer
	if err := md.Convert([]byte(s), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(s))
	}
	return template.HTML(buf.String()) // goldmark escapes text and drops raw HTML and unsafe link schemes
}

// workingLeft says how much working time is left, or how long overdue.
func workingLeft(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	h, m := int(d.Hours()), int(d.Minutes())%60
	var s string
	switch {
	case h >= 8:
		s = fmt.Sprintf("%dd %dh", h/8, h%8) // working days of 8 hours
	case h > 0:
		s = fmt.Sprintf("%dh %02dm", h, m)
	default:
		s = fmt.Sprintf("%dm", m)
	}
	if neg {
		return s + " overdue"
	}
	return s + " left"
}

func severityName(n int) string {
	if n >= 1 && n <= len(severities) {
		return fmt.Sprintf("%d – %s", n, severities[n-1].Name)
	}
	return fmt.Sprint(n)
}

// randomString is 32 random bytes, base64url.
func randomString() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("web: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func constantEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
