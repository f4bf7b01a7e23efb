package console

import (
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/staff"
)

// forbiddenPage answers a signed-in staff member on a page for another
// role: which role it is for, who they are, and the way to their own home,
// in the console's frame rather than the customer's error page.
func (h *handler) forbiddenPage(need staff.Role) httpkit.ErrorPage {
	return func(c *fiber.Ctx, status int, _ string) error {
		u := currentStaff(c).User
		p := forbiddenView{layout: h.layout(c, "Not for your role"), Need: roleNoun(need), Name: u.Name,
			Role: string(u.Role), Home: roleHome(u.Role)}
		if u.Role == staff.RoleWriter {
			p.HomeLabel = "Go to the articles"
		} else {
			p.HomeLabel = "Go to the queue"
		}
		return h.render(c, status, "forbidden", p)
	}
}

type forbiddenView struct {
	layout
	Need, Name, Role string
	Home, HomeLabel  string
}

// mayDo is staff.Role.Allows with one addition for the console: an
// operator may also do a writer's work (the articles, their history,
// tokens for publishing with git).
func mayDo(r, need staff.Role) bool {
	return r.Allows(need) || need == staff.RoleWriter && r == staff.RoleOperator
}

// MayWrite says whether c comes from a signed-in writer or operator (a
// console session in its cookie), for the customer side to link an
// article's history (web.Services.MayWrite). Without the cookie it costs
// nothing; with it, one read of the session.
func (con *Console) MayWrite(c *fiber.Ctx) bool {
	token := c.Cookies(sessionCookie)
	if token == "" {
		return false
	}
	sess, err := con.h.staff.Session(c.UserContext(), token)
	return err == nil && !sess.User.MustChangePassword && mayDo(sess.User.Role, staff.RoleWriter)
}

// roleNoun names the people a role is for, in a sentence.
func roleNoun(r staff.Role) string {
	switch r {
	case staff.RoleOperator:
		return "operators"
	case staff.RoleWriter:
		return "writers and operators"
	default:
		return "agents"
	}
}

type writerPage struct {
	layout
	Languages []writerLang
	CloneURL  string // the knowledge base's git URL, with the user's e-mail
	Flash     string
}

type writerLang struct {
	Lang     string
	Articles []*kb.Article
}

// writer is GET /writer: a writer's home. It says how to publish with git
// (clone, commit, push) and lists the articles by language, each with its
// history.
func (h *handler) writer(c *fiber.Ctx) error {
	p := writerPage{layout: h.layout(c, "Articles"), CloneURL: cloneURL(c, currentStaff(c).User.Email)}
	p.Section = "writer"
	for _, l := range h.kb().Languages() {
		as := append([]*kb.Article(nil), h.kb().InLang(l)...)
		sort.Slice(as, func(i, j int) bool { return as[i].Title < as[j].Title })
		p.Languages = append(p.Languages, writerLang{Lang: l, Articles: as})
	}
	if c.Query("flash") == "password" {
		p.Flash = "Your password was changed."
	}
	return h.render(c, fiber.StatusOK, "writer", p)
}
