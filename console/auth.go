package console

import (
	"errors"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/staff"
)

// Staff sign-in: a browser carries a session cookie and, on every form that
// changes something, the session's CSRF token; a tool sends a personal
// access token as "Authorization: Bearer".
const (
	sessionCookie   = "portal_staff"
	loginCSRFCookie = "portal_login" // double-submit token of the login form, before there is a session
	// deviceCookie recognises a browser that signed in before, so that
	// someone else's failed guesses do not lock it out (staff.Login).
	deviceCookie = "portal_device"
	localStaff   = "staff" // c.Locals key of the signed-in staff.Session
)

// anyRole, as the role a page needs, admits every signed-in staff member
// (signing out, changing one's password).
const anyRole staff.Role = ""

// errForbidden is a signed-in user without the role a page needs.
var errForbidden = fiber.NewError(fiber.StatusForbidden, "your role does not allow this")

// errCSRF is a state-changing form without the session's token: a
// cross-site forgery, or a page open since before the session ended.
var errCSRF = fiber.NewError(fiber.StatusForbidden, "this form has expired or did not come from the portal; reload the page and try again")

// staffSession is the middleware of the console's pages: it loads the
// session from its cookie, sends a browser without one to the login page,
// checks the CSRF token of every POST, and sends a user who must change
// the one-time password there first. need is the role the pages need.
func (h *handler) staffSession(need staff.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		token := c.Cookies(sessionCookie)
		sess, err := h.staff.Session(c.UserContext(), token)
		if errors.Is(err, staff.ErrUnauthenticated) {
			if c.Method() != fiber.MethodGet {
				return fiber.NewError(fiber.StatusUnauthorized, "your session has ended; sign in again")
			}
			return c.Redirect("/agent/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
		}
		if err != nil {
			return err
		}
		if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
			given := c.FormValue("csrf")
			if given == "" {
				given = c.Get("X-CSRF-Token")
			}
			if !staff.CheckCSRF(token, given) || !sameOriginRequest(c) {
				return errCSRF
			}
		}
		c.Locals(localStaff, sess)
		c.Set(fiber.HeaderCacheControl, "no-store")
		if sess.User.MustChangePassword && c.Path() != "/agent/password" && c.Path() != "/agent/logout" {
			return c.Redirect("/agent/password", fiber.StatusSeeOther)
		}
		if need != anyRole && !mayDo(sess.User.Role, need) {
			// A console page, not the customer's error page: it names the
			// role needed and links to what this user can use.
			return httpkit.WithPage(errForbidden, h.forbiddenPage(need))
		}
		return c.Next()
	}
}

// apiStaff is the middleware of the agent API: a personal access token as
// Bearer, from an enabled account whose role allows need.
func (h *handler) apiStaff(need staff.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u, err := h.staff.Authenticate(c.UserContext(), httpkit.Bearer(c))
		if errors.Is(err, staff.ErrUnauthenticated) {
			// A bad token counts as a failed sign-in: a client guessing
			// tokens is slowed down as one guessing passwords.
			if lerr := h.signIn.Allow(httpkit.ClientIP(c)); lerr != nil {
				return lerr
			}
		}
		if err != nil {
			return err
		}
		if !u.Role.Allows(need) {
			return errForbidden
		}
		c.Locals(localStaff, staff.Session{User: u})
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Next()
	}
}

// sameOriginRequest refuses a request whose Origin (or, without one,
// Referer) names another site; browsers send one of them with a form POST.
// A request with neither is not from a browser form.
func sameOriginRequest(c *fiber.Ctx) bool {
	src := c.Get(fiber.HeaderOrigin)
	if src == "" {
		src = c.Get(fiber.HeaderReferer)
	}
	if src == "" || src == "null" && c.Get(fiber.HeaderOrigin) == "" {
		return true
	}
	u, err := url.Parse(src)
	return err == nil && strings.EqualFold(u.Host, c.Hostname())
}

func currentStaff(c *fiber.Ctx) staff.Session {
	s, _ := c.Locals(localStaff).(staff.Session)
	return s
}

type loginPage struct {
	layout
	Email, Next, Error string
	CSRF               string
}

// loginForm is GET /agent/login.
func (h *handler) loginForm(c *fiber.Ctx) error {
	if sess, err := h.staff.Session(c.UserContext(), c.Cookies(sessionCookie)); err == nil {
		return c.Redirect(safeNext(c.Query("next"), sess.User.Role), fiber.StatusSeeOther)
	}
	return h.renderLogin(c, fiber.StatusOK, loginPage{Next: c.Query("next")})
}

func (h *handler) renderLogin(c *fiber.Ctx, status int, p loginPage) error {
	token, err := randomString()
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: loginCSRFCookie, Value: token, Path: "/agent/login", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteStrictMode, Secure: c.Secure(), MaxAge: 3600})
	p.CSRF = token
	p.layout = layout{Title: "Sign in"}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.render(c, status, "login", p)
}

// login is POST /agent/login.
func (h *handler) login(c *fiber.Ctx) error {
	p := loginPage{Email: c.FormValue("email"), Next: c.FormValue("next")}
	// Every attempt counts against the address's burst, before any work:
	// the per-account and per-address failure limits (staff.Login) cost a
	// write and a password hash each.
	if err := h.signIn.Allow(httpkit.ClientIP(c)); err != nil {
		s, _ := httpkit.RetryAfter(err)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(s))
		p.Error = "Too many sign-in attempts from your address. Try again in a minute."
		return h.renderLogin(c, fiber.StatusTooManyRequests, p)
	}
	cookie, given := c.Cookies(loginCSRFCookie), c.FormValue("csrf")
	if cookie == "" || !constantEqual(cookie, given) || !sameOriginRequest(c) {
		p.Error = "The sign-in form expired. Please try again."
		return h.renderLogin(c, fiber.StatusForbidden, p)
	}
	sess, err := h.staff.Login(c.UserContext(), staff.Attempt{Email: p.Email, Password: c.FormValue("password"),
		IP: httpkit.ClientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent), Device: c.Cookies(deviceCookie)})
	var rl *staff.RateLimitError
	switch {
	case errors.As(err, &rl):
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(rl.RetryAfter.Seconds()+1)))
		switch {
		case rl.Busy:
			p.Error = "Many people are signing in right now. Please try again in a moment."
		case rl.RetryAfter < time.Minute:
			p.Error = "Too many failed sign-ins. Try again in a minute."
		default:
			p.Error = "Too many failed sign-ins. Try again in " + rl.RetryAfter.Round(time.Minute).String() + "."
		}
		return h.renderLogin(c, fiber.StatusTooManyRequests, p)
	case errors.Is(err, staff.ErrBadCredentials):
		p.Error = "Wrong e-mail or password."
		return h.renderLogin(c, fiber.StatusUnauthorized, p)
	case err != nil:
		return err
	}
	h.setSessionCookie(c, sess)
	c.ClearCookie(loginCSRFCookie)
	// Sent to the sign-in form only, and never to another site.
	c.Cookie(&fiber.Cookie{Name: deviceCookie, Value: sess.Device, Path: "/agent/login", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteStrictMode, Secure: c.Secure(), Expires: sess.DeviceExpiresAt,
		MaxAge: int(time.Until(sess.DeviceExpiresAt).Seconds())})
	if sess.User.MustChangePassword {
		return c.Redirect("/agent/password", fiber.StatusSeeOther)
	}
	return c.Redirect(safeNext(p.Next, sess.User.Role), fiber.StatusSeeOther)
}

// setSessionCookie sets a browser-session cookie: the server ends the session
// (after idle hours, or days in all), and a fixed cookie expiry would cut
// off an agent who is still working.
func (h *handler) setSessionCookie(c *fiber.Ctx, sess staff.Session) {
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: c.Secure(), SessionOnly: true})
}

// roleHome is where a role starts: the queue for agents and operators, the
// articles for writers.
func roleHome(r staff.Role) string {
	if r == staff.RoleWriter {
		return "/writer"
	}
	return "/agent"
}

// roleAllowsPath says whether a console path is for role r, so that a
// redirect after sign-in does not end on a page that refuses it.
func roleAllowsPath(r staff.Role, p string) bool {
	under := func(root string) bool { return p == root || strings.HasPrefix(p, root+"/") }
	switch {
	case p == "/agent/password":
		return true
	case under("/writer"):
		return mayDo(r, staff.RoleWriter)
	case p == "/operator":
		return r.Allows(staff.RoleOperator)
	case under("/agent"):
		return r.Allows(staff.RoleAgent)
	}
	return false
}

// safeNext keeps a redirect after sign-in on this site's console: a path
// of the console that role r may open, rebuilt from its parsed parts so
// that nothing else (another host, control characters that would split
// the Location header) gets through. Anything else goes to r's home.
func safeNext(next string, r staff.Role) string {
	home := roleHome(r)
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.IndexFunc(u.Path, unicode.IsControl) >= 0 ||
		path.Clean(u.Path) != u.Path ||
		strings.Contains(next, "\\") || !roleAllowsPath(r, u.Path) {
		return home
	}
	out := (&url.URL{Path: u.Path, RawQuery: u.Query().Encode()}).String()
	if strings.HasPrefix(out, "//") {
		return home
	}
	return out
}

// logout is POST /agent/logout.
func (h *handler) logout(c *fiber.Ctx) error {
	if err := h.staff.Logout(c.UserContext(), c.Cookies(sessionCookie)); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", HTTPOnly: true, Expires: time.Unix(1, 0),
		SameSite: fiber.CookieSameSiteLaxMode, Secure: c.Secure()})
	return c.Redirect("/agent/login?out=1", fiber.StatusSeeOther)
}

type passwordPage struct {
	layout
	Errors map[string]string
	Forced bool
}

// passwordForm is GET /agent/password.
func (h *handler) passwordForm(c *fiber.Ctx) error {
	sess := currentStaff(c)
	return h.render(c, fiber.StatusOK, "password", passwordPage{layout: h.layout(c, "Change password"),
		Forced: sess.User.MustChangePassword, Errors: map[string]string{}})
}

// changePassword is POST /agent/password.
func (h *handler) changePassword(c *fiber.Ctx) error {
	sess := currentStaff(c)
	next := c.FormValue("password")
	if next != c.FormValue("confirm") {
		return h.render(c, fiber.StatusUnprocessableEntity, "password", passwordPage{
			layout: h.layout(c, "Change password"), Forced: sess.User.MustChangePassword,
			Errors: map[string]string{"confirm": "The two new passwords differ."}})
	}
	err := h.staff.SetPassword(c.UserContext(), sess.User.ID, c.FormValue("current_password"), next, c.Cookies(sessionCookie))
	var ve *staff.ValidationError
	if errors.As(err, &ve) {
		return h.render(c, fiber.StatusUnprocessableEntity, "password", passwordPage{
			layout: h.layout(c, "Change password"), Forced: sess.User.MustChangePassword, Errors: ve.Messages()})
	}
	if err != nil {
		return err
	}
	return c.Redirect(roleHome(sess.User.Role)+"?flash=password", fiber.StatusSeeOther)
}
