package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

// What the console's pages and its API share: the queue's filters, the
// signed-in agent, the ticket of a request, an assignment's target; then
// the JSON API.

// queueFilter reads the queue's filters from the query string; a value that
// is not one of the choices is a 400 naming the parameter.
func queueFilter(c *fiber.Ctx, me int64) (tickets.QueueFilter, error) {
	var f tickets.QueueFilter
	if s := c.Query("status"); s != "" {
		for _, v := range strings.Split(s, ",") {
			st := tickets.Status(v)
			switch st {
			case tickets.StatusNew, tickets.StatusOpen, tickets.StatusWaiting, tickets.StatusSolved, tickets.StatusClosed:
				f.Statuses = append(f.Statuses, st)
			default:
				return f, httpkit.BadRequest("status: must be new, open, waiting, solved or closed")
			}
		}
	}
	switch p := tickets.Plan(c.Query("plan")); p {
	case "", tickets.PlanBasic, tickets.PlanPriority, tickets.PlanIndividual:
		f.Plan = p
	default:
		return f, httpkit.BadRequest("plan: must be basic, priority or individual")
	}
	if s := c.Query("severity"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 4 {
			return f, httpkit.BadRequest("severity: must be 1 to 4")
		}
		f.Severity = n
	}
	f.Lang = c.Query("lang")
	if len(f.Lang) > 16 {
		return f, httpkit.BadRequest("lang: not a language code")
	}
	var err error
	if f.Deployment, err = deploymentFilter(c); err != nil {
		return f, err
	}
	switch a := c.Query("assignee"); a {
	case "":
	case "me":
		f.Assignee = me
	case "none":
		f.Assignee = tickets.Unassigned
	default:
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n <= 0 {
			return f, httpkit.BadRequest("assignee: must be me, none or an agent's id")
		}
		f.Assignee = n
	}
	f.CallRequired = c.QueryBool("call_required")
	f.AtRisk = c.QueryBool("at_risk")
	f.Breached = c.QueryBool("breached")
	if f.Limit, err = queryInt(c, "limit", 0, 500); err != nil {
		return f, err
	}
	if f.Offset, err = queryInt(c, "offset", 0, 1<<30); err != nil {
		return f, err
	}
	return f, nil
}

func queryInt(c *fiber.Ctx, name string, lo, hi int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, httpkit.BadRequest(fmt.Sprintf("%s: must be a number from %d to %d", name, lo, hi))
	}
	return n, nil
}

// me is the signed-in agent as the tickets package records actors.
func me(c *fiber.Ctx) tickets.Staff {
	u := currentStaff(c).User
	return tickets.Staff{ID: u.ID, Name: u.Name}
}

// agentTicket reads the :number of a ticket page or API call.
func (h *handler) agentTicket(c *fiber.Ctx) (tickets.Ticket, error) {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return tickets.Ticket{}, err
	}
	return h.tickets.GetByNumber(c.UserContext(), n)
}

// assignee resolves an assignment target: "" or "none" is nobody, "me" the
// signed-in agent, else a staff id or e-mail of an enabled agent.
func (h *handler) assignee(c *fiber.Ctx, v string) (tickets.Staff, error) {
	var (
		u   staff.User
		err error
	)
	switch {
	case v == "" || v == "none":
		return tickets.Staff{}, nil
	case v == "me":
		return me(c), nil
	case strings.Contains(v, "@"):
		u, err = h.staff.UserByEmail(c.UserContext(), v)
	default:
		id, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			return tickets.Staff{}, fields.Invalid("assignee", fields.Assignee)
		}
		u, err = h.staff.UserByID(c.UserContext(), id)
	}
	if errors.Is(err, staff.ErrNotFound) || err == nil && (u.Disabled || !u.Role.Allows(staff.RoleAgent)) {
		return tickets.Staff{}, fields.Invalid("assignee", fields.NoActiveAgent, "value", v)
	}
	if err != nil {
		return tickets.Staff{}, err
	}
	return tickets.Staff{ID: u.ID, Name: u.Name}, nil
}

// --- JSON API ---------------------------------------------------------

type apiQueueItem struct {
	Number          int        `json:"number"`
	Subject         string     `json:"subject"`
	Status          string     `json:"status"`
	Plan            string     `json:"plan"`
	PendingPlan     string     `json:"pending_plan,omitempty"` // the plan once the address is confirmed
	Organisation    string     `json:"organisation,omitempty"`
	Severity        int        `json:"severity"`
	Lang            string     `json:"lang"`
	AnswerInEnglish bool       `json:"answer_in_english"`
	Deployment      string     `json:"deployment"` // cloud, own-server, other, or "" when not given
	Name            string     `json:"name"`
	Company         string     `json:"company"`
	Phone           string     `json:"phone"`
	SLADue          *time.Time `json:"sla_due"`
	SLAState        string     `json:"sla_state"`
	SLALeftMinutes  *int64     `json:"sla_left_minutes"` // working minutes; negative when breached; null without a target
	CallRequired    bool       `json:"call_required"`
	CallReason      string     `json:"call_reason,omitempty"`
	Assignee        *apiStaff  `json:"assignee"`
	AgentReplies    int        `json:"agent_replies"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

type apiStaff struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func newAPIStaff(s tickets.Staff) *apiStaff {
	if s.ID == 0 {
		return nil
	}
	return &apiStaff{s.ID, s.Name}
}

func newAPIQueueItem(it tickets.QueueItem) apiQueueItem {
	out := apiQueueItem{Number: it.Number, Subject: it.Subject, Status: string(it.Status), Plan: string(it.Plan),
		PendingPlan: string(it.PendingPlan), Organisation: it.Organisation, Severity: it.Severity, Lang: it.Lang, AnswerInEnglish: it.AnswerInEnglish,
		Deployment: string(it.Deployment), Name: it.Name, Company: it.Company, Phone: it.Phone, SLAState: it.SLA.State,
		CallRequired: it.CallRequired, CallReason: it.CallReason, Assignee: newAPIStaff(it.Assignee),
		AgentReplies: it.AgentReplies, UpdatedAt: it.UpdatedAt.UTC()}
	if !it.SLA.Due.IsZero() {
		d := it.SLA.Due.UTC()
		left := int64(it.SLA.Left.Minutes())
		out.SLADue, out.SLALeftMinutes = &d, &left
	}
	return out
}

// apiQueue is GET /api/agent/queue.
func (h *handler) apiQueue(c *fiber.Ctx) error {
	f, err := queueFilter(c, me(c).ID)
	if err != nil {
		return err
	}
	q, err := h.tickets.Queue(c.UserContext(), f)
	if err != nil {
		return err
	}
	items := make([]apiQueueItem, len(q.Items))
	for i, it := range q.Items {
		items[i] = newAPIQueueItem(it)
	}
	return c.JSON(fiber.Map{"tickets": items, "total": q.Total, "counts": fiber.Map{
		"open": q.Counts.Open, "status": q.Counts.Status, "plan": q.Counts.Plan, "severity": q.Counts.Severity,
		"lang": q.Counts.Lang, "deployment": q.Counts.Deployment, "assignee": q.Counts.Assignee, "call_required": q.Counts.CallRequired,
		"at_risk": q.Counts.AtRisk, "breached": q.Counts.Breached,
	}})
}

// apiAgentTicket is GET /api/agent/tickets/:number: the whole ticket,
// internal notes included.
func (h *handler) apiAgentTicket(c *fiber.Ctx) error {
	t, err := h.agentTicket(c)
	if err != nil {
		return err
	}
	return c.JSON(h.newAgentAPITicket(c, t))
}

type agentAPITicket struct {
	httpkit.APITicket
	Name             string          `json:"name"`
	Company          string          `json:"company"`
	Phone            string          `json:"phone"`
	Email            string          `json:"email"`
	PendingPlan      string          `json:"pending_plan,omitempty"` // the plan once the address is confirmed
	SLAState         string          `json:"sla_state"`
	CallReason       string          `json:"call_reason,omitempty"`
	Assignee         *apiStaff       `json:"assignee"`
	AgentReplies     int             `json:"agent_replies"`
	RepliesSinceCall int             `json:"replies_since_call"`
	CallAfterReplies int             `json:"call_after_replies"`
	Notes            []apiAgentEvent `json:"audit"`
	Deployment       string          `json:"deployment"`                    // cloud, own-server, other, or "" when not given
	BugReport        *apiBugReport   `json:"bug_report,omitempty"`          // deployment "other": not a valid bug report
	Translation      *apiTranslation `json:"machine_translation,omitempty"` // outside the four languages: none available
}

// apiAgentEvent is an event with who did it, for the audit trail.
type apiAgentEvent struct {
	httpkit.APIEvent
	Staff    *apiStaff `json:"staff"`
	Internal bool      `json:"internal"`
	Reason   string    `json:"reason,omitempty"`
	Assignee *apiStaff `json:"assignee,omitempty"`
	Call     string    `json:"call,omitempty"`
	Note     string    `json:"note,omitempty"`
}

func newAPIAgentEvent(ev tickets.Event) apiAgentEvent {
	out := apiAgentEvent{APIEvent: httpkit.NewAPIEvent(ev), Staff: newAPIStaff(ev.Staff), Internal: ev.Internal,
		Reason: ev.Reason, Assignee: newAPIStaff(ev.Assignee), Call: ev.Call}
	if ev.Kind == tickets.KindNote && ev.Message != nil {
		out.Note = ev.Message.Body
	}
	return out
}

func (h *handler) newAgentAPITicket(c *fiber.Ctx, t tickets.Ticket) agentAPITicket {
	out := agentAPITicket{APITicket: httpkit.NewAPITicket(t.ForCustomer()), Name: t.Name, Company: t.Company, Phone: t.Phone,
		Email: t.Email, PendingPlan: string(t.PendingPlan), SLAState: h.tickets.TicketClock(t, time.Now()).State, CallReason: t.CallReason,
		Assignee: newAPIStaff(t.Assignee), AgentReplies: t.AgentReplies, RepliesSinceCall: t.RepliesSinceCall,
		CallAfterReplies: t.CallAfterReplies, Notes: []apiAgentEvent{}, Deployment: t.Deployment}
	out.BugReport, out.Translation = h.ticketPolicy(t).api()
	for _, ev := range t.History {
		out.Notes = append(out.Notes, newAPIAgentEvent(ev))
	}
	return out
}

// decodeJSON reads a JSON object body into v; a malformed one is a 400.
func decodeJSON(c *fiber.Ctx, v any, what string) error {
	if err := json.Unmarshal(c.Body(), v); err != nil {
		return httpkit.BadRequest("body: must be a JSON object with " + what)
	}
	return nil
}

// apiAgentReply is POST /api/agent/tickets/:number/replies
// {"body", "internal"?, "call"?, "status"?}.
func (h *handler) apiAgentReply(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	var in struct {
		Body     string `json:"body"`
		Internal bool   `json:"internal"`
		Call     bool   `json:"call"`
		Status   string `json:"status"`
	}
	if err := decodeJSON(c, &in, "body"); err != nil {
		return err
	}
	evs, err := h.tickets.Post(c.UserContext(), n, me(c),
		tickets.AgentReply{Body: in.Body, Internal: in.Internal, Call: in.Call, Status: tickets.Status(in.Status)})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(agentEvents(evs))
}

func agentEvents(evs []tickets.Event) fiber.Map {
	out := make([]apiAgentEvent, len(evs))
	for i, ev := range evs {
		out[i] = newAPIAgentEvent(ev)
	}
	return fiber.Map{"events": out}
}

// apiAgentStatus is POST /api/agent/tickets/:number/status {"status"}.
func (h *handler) apiAgentStatus(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	var in struct {
		Status string `json:"status"`
	}
	if err := decodeJSON(c, &in, "status"); err != nil {
		return err
	}
	ev, err := h.tickets.AgentStatus(c.UserContext(), n, tickets.Status(in.Status), me(c))
	if err != nil {
		return err
	}
	return c.JSON(agentEvents([]tickets.Event{ev}))
}

// apiAgentSeverity is POST /api/agent/tickets/:number/severity
// {"severity", "reason"}.
func (h *handler) apiAgentSeverity(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	var in struct {
		Severity int    `json:"severity"`
		Reason   string `json:"reason"`
	}
	if err := decodeJSON(c, &in, "severity and reason"); err != nil {
		return err
	}
	ev, err := h.tickets.ChangeSeverity(c.UserContext(), n, in.Severity, in.Reason, me(c))
	if err != nil {
		return err
	}
	return c.JSON(agentEvents([]tickets.Event{ev}))
}

// apiAgentAssign is POST /api/agent/tickets/:number/assign {"assignee"}:
// "me", "none", an agent's id or e-mail.
func (h *handler) apiAgentAssign(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	var in struct {
		Assignee json.RawMessage `json:"assignee"`
	}
	if err := decodeJSON(c, &in, "assignee"); err != nil {
		return err
	}
	if len(in.Assignee) == 0 {
		return fields.Invalid("assignee", fields.MissingAssignee)
	}
	v := strings.Trim(string(in.Assignee), `"`)
	if v == "null" {
		v = ""
	}
	to, err := h.assignee(c, v)
	if err != nil {
		return err
	}
	ev, err := h.tickets.Assign(c.UserContext(), n, to, me(c))
	if err != nil {
		return err
	}
	return c.JSON(agentEvents([]tickets.Event{ev}))
}
