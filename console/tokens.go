package console

import (
	"errors"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/staff"
)

// The writers' personal access tokens: the password for git over HTTP
// (and the API's Bearer token). A user manages only their own.

type tokensPage struct {
	layout
	Email    string
	Tokens   []staff.Token
	CloneURL string // git clone URL with the user's e-mail, on this request's host
	NewToken string // the token just created: shown once, never stored
	NewName  string
	Error    string
	Flash    string
}

// tokens is GET /writer/tokens.
func (h *handler) tokens(c *fiber.Ctx) error {
	p := tokensPage{}
	if c.Query("flash") == "revoked" {
		p.Flash = "The token was revoked: it no longer works."
	}
	return h.renderTokens(c, fiber.StatusOK, p)
}

func (h *handler) renderTokens(c *fiber.Ctx, status int, p tokensPage) error {
	u := currentStaff(c).User
	list, err := h.staff.ListTokens(c.UserContext(), u.Email)
	if err != nil {
		return err
	}
	p.layout = h.layout(c, "Access tokens")
	p.Section = "writer"
	p.Email, p.Tokens, p.CloneURL = u.Email, list, cloneURL(c, u.Email)
	return h.render(c, status, "tokens", p)
}

// createToken is POST /writer/tokens: a new token for the signed-in user,
// shown on the page that answers (not after a redirect, so that the secret
// is in no URL and no history entry).
func (h *handler) createToken(c *fiber.Ctx) error {
	u := currentStaff(c).User
	name := c.FormValue("name")
	tok, err := h.staff.CreateToken(c.UserContext(), u.Email, name, u.Email)
	var ve *staff.ValidationError
	if errors.As(err, &ve) {
		msg := "The token could not be created."
		if m := ve.Messages()["name"]; m != "" {
			msg = "Name: " + m
		}
		return h.renderTokens(c, fiber.StatusUnprocessableEntity, tokensPage{Error: msg, NewName: name})
	}
	if err != nil {
		return err
	}
	return h.renderTokens(c, fiber.StatusOK, tokensPage{NewToken: tok, NewName: name})
}

// revokeToken is POST /writer/tokens/ID/revoke. Another user's token is
// not found (staff.ErrNotFound), as an unknown one.
func (h *handler) revokeToken(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return httpkit.ErrNotFound
	}
	u := currentStaff(c).User
	if err := h.staff.RevokeToken(c.UserContext(), u.Email, id, u.Email); err != nil {
		return err
	}
	return c.Redirect("/writer/tokens?flash=revoked", fiber.StatusSeeOther)
}

// cloneURL is the knowledge base's git URL on the host the request came
// to, with the user's e-mail as the user name (its "@" escaped, so that
// git reads the host right).
func cloneURL(c *fiber.Ctx, email string) string {
	return (&url.URL{Scheme: c.Protocol(), User: url.User(email), Host: c.Hostname(), Path: "/content.git"}).String()
}
