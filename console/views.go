package console

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/langtag"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

//go:embed templates
var templateFS embed.FS

// The console's pages have a frame of their own (templates/layout),
// separate from the customer pages': staff navigation instead of the
// knowledge base's search and languages.

// views holds one template set per console page.
type views struct {
	pages httpkit.Pages
}

func parseViews(as *httpkit.Assets) (*views, error) {
	funcs := template.FuncMap{
		"asset":    as.URL,
		"langName": langtag.Name,
		"history":  historyURL,
		"markdown": httpkit.Markdown,
		"utc":      func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z07:00") },
		"when":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") },
		"left":     workingLeft,
		"status":   tickets.Status.Label,
		"plan":     tickets.Plan.Label,
		"severity": tickets.SeverityName,
		// A solved or closed ticket has no clock running and no call due:
		// its pages say nothing of either.
		"settled": settledStatus,
	}
	pages, err := httpkit.ParsePages(templateFS, funcs, "templates/layout/*.html", "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &views{pages: pages}, nil
}

// settledStatus says whether a ticket is done with: solved or closed.
func settledStatus(s tickets.Status) bool {
	return s == tickets.StatusSolved || s == tickets.StatusClosed
}

// layout is what the console's frame needs.
type layout struct {
	Title    string
	User     string // the signed-in staff member's name; "" on the login page
	Role     string
	CSRF     string
	Operator bool   // shows the operator's links
	Agent    bool   // shows the queue and the live-updates dot
	Writer   bool   // shows the writer's links
	Home     string // where the brand link goes: the role's home
	Section  string
	// Chroma links the stylesheet of highlighted code: a preview's
	// article with code blocks.
	Chroma bool
}

func (h *handler) layout(c *fiber.Ctx, title string) layout {
	s := currentStaff(c)
	r := s.User.Role
	return layout{Title: title, User: s.User.Name, Role: string(r), CSRF: s.CSRF,
		Operator: r.Allows(staff.RoleOperator), Agent: r.Allows(staff.RoleAgent), Writer: mayDo(r, staff.RoleWriter),
		Home: roleHome(r)}
}

// render renders a console page; with fragment set, only the named
// template (a part the page's script swaps in after a live change).
func (h *handler) render(c *fiber.Ctx, status int, page string, data any) error {
	return h.renderPart(c, status, page, "layout", data)
}

func (h *handler) renderPart(c *fiber.Ctx, status int, page, part string, data any) error {
	body, err := h.views.pages.Execute(page, part, data)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(body)
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

// randomString is 32 random bytes, base64url.
func randomString() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("console: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func constantEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
