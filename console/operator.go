package console

import (
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/calendar"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/insights"
	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/publish"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

type operatorPage struct {
	layout
	Problems []string // what keeps the portal from working fully (Services.Health)
	Hours    string   // calendar.Hours: the targets and holidays are listed apart
	Targets  []planTarget
	Holidays []calendar.Holiday
	Users    []staff.User
	Audit    []staff.AuditEntry
	Publish  *publishing // nil: the console was built without a publisher
	Mail     *mailState  // nil: the console was built without the outbox
	// The dashboard: nil without insights or with a bad period, which
	// Period's Errors explain.
	Period    periodView
	Dashboard *dashboard
	// DashboardError says the figures failed, briefly; the rest of the
	// page (publishing, staff, audit) is still shown.
	DashboardError string
}

// mailState is the outbox for operators: how many mails wait, and those
// that failed for good, with the reason.
type mailState struct {
	Pending int
	Failed  []mail.Failure
	Flash   string
}

// publishing is the knowledge base's state for operators: the commit
// customers see, the previews, and the publishes that did not happen.
type publishing struct {
	Live     string
	Articles int
	Previews []string
	Failures []publish.Failure
}

type planTarget struct{ Plan, Target string }

// operator is GET /operator: the deflection dashboard for a period
// (?period=7|30|90 or ?from=DATE&to=DATE; the articles in the order of
// ?sort=COLUMN&dir=asc|desc), then the settings in force and the staff's
// activity, for operators only. A bad period answers 422 with the page
// saying what is wrong.
func (h *handler) operator(c *fiber.Ctx) error {
	users, err := h.staff.Users(c.UserContext())
	if err != nil {
		return err
	}
	audit, err := h.staff.Audit(c.UserContext(), 50)
	if err != nil {
		return err
	}
	cal := h.tickets.Calendar()
	now := time.Now()
	p := operatorPage{layout: h.layout(c, "Operations"), Hours: cal.Hours(),
		Holidays: cal.Holidays(now, now.AddDate(1, 0, 0)), Users: users, Audit: audit}
	p.Section = "operator"
	if h.pub != nil {
		p.Publish = &publishing{Live: h.pub.Live(), Articles: len(h.kb().Articles), Previews: h.pub.Previews(), Failures: h.pub.Failures()}
	}
	if h.health != nil {
		p.Problems = h.health()
	}
	if h.mail != nil {
		ms := &mailState{}
		if ms.Pending, err = h.mail.Pending(c.UserContext()); err != nil {
			return err
		}
		if ms.Failed, err = h.mail.Failed(c.UserContext()); err != nil {
			return err
		}
		if c.Query("flash") == "mail-retried" {
			ms.Flash = "The mail is queued again."
		}
		p.Mail = ms
	}
	for plan, t := range cal.Targets() {
		p.Targets = append(p.Targets, planTarget{tickets.Plan(plan).Label(), t.String()})
	}
	sort.Slice(p.Targets, func(i, j int) bool { return p.Targets[i].Plan < p.Targets[j].Plan })
	if h.insights == nil {
		return h.render(c, fiber.StatusOK, "operator", p)
	}
	var period insights.Period
	period, p.Period = readPeriod(c, now)
	if len(p.Period.Errors) > 0 {
		return h.render(c, fiber.StatusUnprocessableEntity, "operator", p)
	}
	sortBy, dir := readSort(c.Query("sort"), c.Query("dir"))
	if p.Dashboard, err = h.dashboardFor(c.UserContext(), period, p.Period, sortBy, dir); err != nil {
		// The operator still needs the rest of the page, most of all when
		// something is wrong.
		h.errors.ServerError(c.Method(), c.Path(), fiber.StatusInternalServerError, err)
		p.DashboardError = "a database error"
		if errors.Is(err, sqlitedb.ErrUnavailable) {
			p.DashboardError = "the database is unavailable"
		}
		return h.render(c, fiber.StatusInternalServerError, "operator", p)
	}
	return h.render(c, fiber.StatusOK, "operator", p)
}

// apiAudit is GET /api/operator/audit: the staff audit log, newest first.
func (h *handler) apiAudit(c *fiber.Ctx) error {
	limit, err := queryInt(c, "limit", 0, 1000)
	if err != nil {
		return err
	}
	entries, err := h.staff.Audit(c.UserContext(), limit)
	if err != nil {
		return err
	}
	type entry struct {
		At      time.Time         `json:"at"`
		ActorID int64             `json:"actor_id,omitempty"`
		Actor   string            `json:"actor"`
		Action  string            `json:"action"`
		Subject string            `json:"subject,omitempty"`
		Detail  map[string]string `json:"detail,omitempty"`
	}
	out := make([]entry, len(entries))
	for i, e := range entries {
		out[i] = entry{e.At.UTC(), e.ActorID, e.Actor, e.Action, e.Subject, e.Detail}
	}
	return c.JSON(fiber.Map{"entries": out})
}

// retryMail is POST /operator/mail/:id/retry: a mail that failed for good
// goes back to the queue, and the audit trail says who sent it again.
func (h *handler) retryMail(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || h.mail == nil {
		return httpkit.ErrNotFound
	}
	switch err := h.mail.Retry(c.UserContext(), id); {
	case errors.Is(err, mail.ErrNotFound):
		return httpkit.ErrNotFound
	case errors.Is(err, mail.ErrNotFailed):
		return fiber.NewError(fiber.StatusConflict, "mail "+c.Params("id")+" has not failed: it is queued or sent")
	case err != nil:
		return err
	}
	u := currentStaff(c).User
	if err := h.staff.Record(c.UserContext(), u, "mail retried", "mail "+c.Params("id"), nil); err != nil {
		h.log.Warn("recording a mail retry in the audit trail", "err", err)
	}
	return c.Redirect("/operator?flash=mail-retried#mail-title", fiber.StatusSeeOther)
}
