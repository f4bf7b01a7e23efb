package console

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/langtag"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

// --- the queue --------------------------------------------------------

type queuePage struct {
	layout
	Items    []tickets.QueueItem
	Total    int
	Counts   tickets.QueueCounts
	Filter   queueFilterView
	Choices  queueChoices
	Flash    string
	Now      time.Time
	PrevURL  string
	NextURL  string
	FirstRow int
	LastRow  int
}

// queueFilterView is the filter as the form shows it.
type queueFilterView struct {
	Status, Plan, Severity, Lang, Assignee string
	Deployment                             string
	CallRequired, AtRisk, Breached         bool
	Query                                  string // the filter as a query string, for the live refresh
}

type choice struct {
	Value, Label string
	Count        int
	Selected     bool
}

type queueChoices struct {
	Status, Plan, Severity, Lang, Assignee []choice
	Deployment                             []choice
}

// queue is GET /agent: the open tickets in queue order. With
// ?part=queue only the filters (with their counts) and the list, for the
// page's script to swap in when a ticket arrives or changes.
func (h *handler) queue(c *fiber.Ctx) error {
	user := currentStaff(c).User
	f, err := queueFilter(c, user.ID)
	if err != nil {
		return err
	}
	q, err := h.tickets.Queue(c.UserContext(), f)
	if err != nil {
		return err
	}
	p := queuePage{layout: h.layout(c, "Queue"), Items: q.Items, Total: q.Total, Counts: q.Counts, Now: q.Now,
		Filter: queueFilterView{Status: c.Query("status"), Plan: c.Query("plan"), Severity: c.Query("severity"),
			Lang: c.Query("lang"), Assignee: c.Query("assignee"), Deployment: c.Query("deployment"),
			CallRequired: f.CallRequired, AtRisk: f.AtRisk, Breached: f.Breached}}
	p.Section = "queue"
	p.Filter.Query = string(c.Request().URI().QueryString())
	p.Choices = h.queueChoices(p.Filter, q.Counts, user)
	p.Choices.Deployment = deploymentChoices(p.Filter.Deployment, q.Counts)
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	if len(q.Items) > 0 {
		p.FirstRow, p.LastRow = f.Offset+1, f.Offset+len(q.Items)
	}
	page := func(offset int) string {
		v := c.Queries()
		args := url.Values{}
		for k, val := range v {
			if k != "offset" && k != "part" {
				args.Set(k, val)
			}
		}
		args.Set("offset", strconv.Itoa(offset))
		return "/agent?" + args.Encode()
	}
	if f.Offset > 0 {
		p.PrevURL = page(max(f.Offset-limit, 0))
	}
	if f.Offset+len(q.Items) < q.Total {
		p.NextURL = page(f.Offset + limit)
	}
	switch c.Query("flash") {
	case "password":
		p.Flash = "Your password was changed."
	}
	if c.Query("part") == "queue" {
		return h.renderPart(c, fiber.StatusOK, "queue", "queue-live", p)
	}
	return h.render(c, fiber.StatusOK, "queue", p)
}

func (h *handler) queueChoices(f queueFilterView, n tickets.QueueCounts, me staff.User) queueChoices {
	var ch queueChoices
	ch.Status = []choice{{"", "Open work (new, open, waiting)", n.Open, f.Status == ""}}
	for _, st := range []tickets.Status{tickets.StatusNew, tickets.StatusOpen, tickets.StatusWaiting} {
		ch.Status = append(ch.Status, choice{string(st), st.Label(), n.Status[st], f.Status == string(st)})
	}
	for _, st := range []tickets.Status{tickets.StatusSolved, tickets.StatusClosed} {
		ch.Status = append(ch.Status, choice{string(st), st.Label(), -1, f.Status == string(st)})
	}
	ch.Plan = []choice{{"", "Any plan", n.Open, f.Plan == ""}}
	for _, pl := range []tickets.Plan{tickets.PlanPriority, tickets.PlanIndividual, tickets.PlanBasic} {
		ch.Plan = append(ch.Plan, choice{string(pl), pl.Label(), n.Plan[pl], f.Plan == string(pl)})
	}
	ch.Severity = []choice{{"", "Any severity", n.Open, f.Severity == ""}}
	for s := 1; s <= 4; s++ {
		v := strconv.Itoa(s)
		ch.Severity = append(ch.Severity, choice{v, tickets.SeverityName(s), n.Severity[s], f.Severity == v})
	}
	ch.Lang = []choice{{"", "Any language", n.Open, f.Lang == ""}}
	langs := make([]string, 0, len(n.Lang))
	for l := range n.Lang {
		langs = append(langs, l)
	}
	if f.Lang != "" && n.Lang[f.Lang] == 0 {
		langs = append(langs, f.Lang)
	}
	sort.Strings(langs)
	for _, l := range langs {
		ch.Lang = append(ch.Lang, choice{l, langtag.Name(l) + " (" + l + ")", n.Lang[l], f.Lang == l})
	}
	ch.Assignee = []choice{
		{"", "Anyone", n.Open, f.Assignee == ""},
		{"me", "Me (" + me.Name + ")", n.Assignee[me.ID], f.Assignee == "me"},
		{"none", "Unassigned", n.Assignee[tickets.Unassigned], f.Assignee == "none"},
	}
	ids := make([]int64, 0, len(n.Assignees))
	for id := range n.Assignees {
		if id != me.ID {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return n.Assignees[ids[i]] < n.Assignees[ids[j]] })
	for _, id := range ids {
		v := strconv.FormatInt(id, 10)
		ch.Assignee = append(ch.Assignee, choice{v, n.Assignees[id], n.Assignee[id], f.Assignee == v})
	}
	return ch
}

// --- one ticket -------------------------------------------------------

type agentTicketPage struct {
	layout
	T          tickets.Ticket
	Clock      tickets.SLAClock
	Trail      []trailLine
	TrailError string
	Agents     []staff.User
	Me         int64
	Flash      string
	Errors     map[string]string
	Draft      tickets.AgentReply // a refused reply, shown again as it was
	// ReplyStatus is the "then set status" choice: a reply to the customer
	// usually asks them something, so it waits on them unless the agent
	// chooses otherwise (static/agent.js switches it to "keep" for a note).
	ReplyStatus tickets.Status
	Reason      string // a refused severity change's reason
	AnswerIn    string // the language to answer in
	KBLang      string // the articles to link: the answer's language
	Policy      ticketPolicy
	Severities  []tickets.SeverityLevel
	Statuses    []tickets.Status
}

// trailLine is one step of the customer's deflection session before filing.
type trailLine struct {
	At      time.Time
	Kind    string
	Query   string
	Article []articleRef
}

type articleRef struct{ Title, URL string }

// agentTicketView is GET /agent/tickets/:number; ?part=live renders only the
// parts a live change updates.
func (h *handler) agentTicketView(c *fiber.Ctx) error {
	p, err := h.agentTicketPage(c)
	if err != nil {
		return err
	}
	switch c.Query("flash") {
	case "reply":
		p.Flash = "Reply sent to the customer."
	case "note":
		p.Flash = "Internal note saved."
	case "call":
		p.Flash = "Call recorded."
	case "status":
		p.Flash = "Status changed."
	case "severity":
		p.Flash = "Severity changed."
	case "assign":
		p.Flash = "Assignment changed."
	case "confirmed":
		p.Flash = "E-mail address confirmed: the plan its domain grants applies."
	}
	// Without script, the standard answer's link fills the reply box here.
	if c.Query("answer") == "bug-policy" && p.Policy.OutsideBugPolicy {
		p.Draft.Body = p.Policy.StandardAnswer
	}
	if c.Query("part") == "live" {
		return h.renderPart(c, fiber.StatusOK, "ticket", "ticket-live", p)
	}
	return h.render(c, fiber.StatusOK, "ticket", p)
}

func (h *handler) agentTicketPage(c *fiber.Ctx) (agentTicketPage, error) {
	t, err := h.agentTicket(c)
	if err != nil {
		return agentTicketPage{}, err
	}
	p := agentTicketPage{layout: h.layout(c, fmt.Sprintf("#%d %s", t.Number, t.Subject)), T: t,
		Clock: h.tickets.TicketClock(t, time.Now()), Me: currentStaff(c).User.ID, Errors: map[string]string{},
		Severities: tickets.Severities, Statuses: []tickets.Status{tickets.StatusNew, tickets.StatusOpen, tickets.StatusWaiting,
			tickets.StatusSolved, tickets.StatusClosed}}
	p.Section = "queue"
	if !settledStatus(t.Status) {
		p.ReplyStatus = tickets.StatusWaiting
	}
	// As tickets decided at filing: a regional variant ("de-CH") of a
	// support language is answered in that language, anything else in English.
	base := langtag.Base(t.Lang)
	p.AnswerIn, p.KBLang = langtag.Name(base), base
	if t.AnswerInEnglish || !langtag.IsOfficial(base) {
		p.AnswerIn, p.KBLang = "English", "en"
	}
	p.Policy = h.ticketPolicy(t)
	if t.DeflectionSession != "" {
		evs, err := h.deflect.Trail(c.UserContext(), t.DeflectionSession)
		if err != nil && !errors.Is(err, deflect.ErrUnknownSession) {
			h.log.Warn("deflection trail", "ticket", t.Number, "error", err)
			p.TrailError = "The deflection trail could not be read."
		}
		p.Trail = h.trail(evs)
	}
	users, err := h.staff.Users(c.UserContext())
	if err != nil {
		return agentTicketPage{}, err
	}
	for _, u := range users {
		if !u.Disabled && u.Role.Allows(staff.RoleAgent) {
			p.Agents = append(p.Agents, u)
		}
	}
	return p, nil
}

// trail turns a deflection session into what the agent reads: what the
// customer typed and was shown, and what they opened.
func (h *handler) trail(evs []deflect.Event) []trailLine {
	var out []trailLine
	for _, e := range evs {
		l := trailLine{At: e.At, Kind: e.Kind, Query: e.Query}
		switch e.Kind {
		case deflect.KindSuggested:
			for _, id := range e.Articles {
				l.Article = append(l.Article, h.articleRef(id))
			}
		case deflect.KindOpened, deflect.KindSolved:
			l.Article = []articleRef{h.articleRef(e.Article)}
		case deflect.KindStarted, deflect.KindContinued, deflect.KindFiled:
		default:
			continue
		}
		out = append(out, l)
	}
	return out
}

func (h *handler) articleRef(id string) articleRef {
	if a, ok := h.kb().ByID(id); ok {
		return articleRef{Title: a.Title, URL: a.URL()}
	}
	return articleRef{Title: id + " (no longer published)"}
}

// --- actions from the console's forms --------------------------------

// agentPost is POST /agent/tickets/:number/replies: a reply or internal
// note, optionally recording a call, optionally changing the status.
func (h *handler) agentPost(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	r := tickets.AgentReply{Body: c.FormValue("body"), Internal: c.FormValue("internal") == "1" || c.FormValue("call") == "1",
		Call: c.FormValue("call") == "1", Status: tickets.Status(c.FormValue("status"))}
	if _, err := h.tickets.Post(c.UserContext(), n, me(c), r); err != nil {
		return h.formError(c, err, r, "")
	}
	flash := "reply"
	switch {
	case r.Call:
		flash = "call"
	case r.Internal:
		flash = "note"
	}
	return c.Redirect(fmt.Sprintf("/agent/tickets/%d?flash=%s#conversation", n, flash), fiber.StatusSeeOther)
}

// formError shows the ticket again with the fields at fault, keeping the
// agent's draft; other errors go to the error handler.
func (h *handler) formError(c *fiber.Ctx, err error, draft tickets.AgentReply, reason string) error {
	var ve *tickets.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	p, perr := h.agentTicketPage(c)
	if perr != nil {
		return perr
	}
	p.Errors, p.Draft, p.Reason = ve.Messages(), draft, reason
	if draft != (tickets.AgentReply{}) {
		p.ReplyStatus = draft.Status
	}
	return h.render(c, fiber.StatusUnprocessableEntity, "ticket", p)
}

// agentSetStatus is POST /agent/tickets/:number/status.
func (h *handler) agentSetStatus(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	if _, err := h.tickets.AgentStatus(c.UserContext(), n, tickets.Status(c.FormValue("status")), me(c)); err != nil {
		return h.formError(c, err, tickets.AgentReply{}, "")
	}
	return c.Redirect(fmt.Sprintf("/agent/tickets/%d?flash=status", n), fiber.StatusSeeOther)
}

// agentSetSeverity is POST /agent/tickets/:number/severity.
func (h *handler) agentSetSeverity(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	sev, _ := strconv.Atoi(c.FormValue("severity"))
	if _, err := h.tickets.ChangeSeverity(c.UserContext(), n, sev, c.FormValue("reason"), me(c)); err != nil {
		return h.formError(c, err, tickets.AgentReply{}, c.FormValue("reason"))
	}
	return c.Redirect(fmt.Sprintf("/agent/tickets/%d?flash=severity", n), fiber.StatusSeeOther)
}

// agentAssign is POST /agent/tickets/:number/assign.
func (h *handler) agentAssign(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	to, err := h.assignee(c, c.FormValue("assignee"))
	if err == nil {
		_, err = h.tickets.Assign(c.UserContext(), n, to, me(c))
	}
	if err != nil {
		return h.formError(c, err, tickets.AgentReply{}, "")
	}
	return c.Redirect(fmt.Sprintf("/agent/tickets/%d?flash=assign", n), fiber.StatusSeeOther)
}

// agentAttachment is GET /agent/tickets/:number/attachments/:sha: always a
// download, never shown inline (a customer's file is not trusted content).
func (h *handler) agentAttachment(c *fiber.Ctx) error {
	t, err := h.agentTicket(c)
	if err != nil {
		return err
	}
	a, f, err := h.tickets.OpenAttachment(t, c.Params("sha"))
	if err != nil {
		return err
	}
	defer f.Close()
	c.Set(fiber.HeaderContentType, fiber.MIMEOctetStream)
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf("attachment; filename*=UTF-8''%s", url.PathEscape(a.Name)))
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	body, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("console: attachment: %w", err)
	}
	return c.Send(body)
}
