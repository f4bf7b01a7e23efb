package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/websocket"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/langtag"
	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/ticketfeed"
	"github.com/orbitask/portal/tickets"
)

// attachmentAccept are the file types the form offers; the tickets package
// judges each file by its content, and sets the limits the form announces.
const attachmentAccept = ".log,.txt,.json,.zip,.gz,.png,.jpg,.jpeg,.gif,.pdf"

type option struct{ Value, Label string }

type severityOption struct {
	Level             int
	Name, Description string
}

var deployments = []option{
	{string(tickets.DeploymentCloud), "Orbitask Cloud (hosted by us)"},
	{string(tickets.DeploymentOwnServer), "Own server, recommended installation"},
	{string(tickets.DeploymentOther), "Other"},
}

// ticketLanguages are the choices of the new-ticket form's language: detect
// it, or one of the official languages, each named in itself.
var ticketLanguages = func() []option {
	opts := []option{{"", "Detect from my text"}}
	for _, l := range langtag.Official() {
		opts = append(opts, option{l, langtag.Name(l)})
	}
	return opts
}()

type ticketNewPage struct {
	layout
	Values          map[string]string
	Errors          map[string]string // field → message, in Lang
	ErrorList       []errorItem       // the same, in the form's order, for the summary
	Notice          string            // why the form came back though nothing in it was wrong
	Prefilled       string            // says the form was filled in from the customer's mail
	Severities      []severityOption
	Deployments     []option
	Languages       []option
	MaxAttachments  int
	MaxAttachmentMB int
	AttachmentTypes string
}

// Returned reports whether the form came back to the customer (with errors
// or a notice): then all of it is shown at once, not behind "continue".
func (p ticketNewPage) Returned() bool {
	return len(p.Errors) > 0 || len(p.ErrorList) > 0 || p.Notice != "" || p.Prefilled != ""
}

// errorItem is one line of the form's error summary, linking to its field.
type errorItem struct {
	Anchor, Text string
}

// formErrorFields are the fields of the error summary, in the form's
// order, with the element each links to and the key of its label.
var formErrorFields = []struct{ field, anchor, label string }{
	{"form", "", ""},
	{"subject", "subject", "new_ticket.subject"},
	{"description", "description", "new_ticket.description"},
	{"severity", "severity-1", "new_ticket.severity"},
	{"name", "name", "new_ticket.name"},
	{"company", "company", "new_ticket.company"},
	{"phone", "phone", "new_ticket.phone"},
	{"email", "email", "new_ticket.email"},
	{"deployment", "deployment", "new_ticket.deployment"},
	{"version", "version", "new_ticket.version"},
	{"environment", "environment", "new_ticket.environment"},
	{"error_messages", "error_messages", "new_ticket.error_messages"},
	{"attachments", "attachments", "new_ticket.attachments"},
	{"lang", "lang", "new_ticket.lang"},
	{"deflection_session", "", "new_ticket.session"},
}

// ticketNewPage fills the form in lang, with the problems of errs (the
// tickets package's) translated.
func (h *handler) ticketNewPage(lang string, values map[string]string, errs map[string]fields.Problem) ticketNewPage {
	w := h.i18n
	p := ticketNewPage{
		layout: h.layout(lang, w.T(lang, "new_ticket.title")), Values: values, Errors: map[string]string{},
		MaxAttachments: tickets.MaxAttachments, MaxAttachmentMB: tickets.MaxAttachmentSize >> 20, AttachmentTypes: attachmentAccept,
	}
	p.Description = w.T(lang, "new_ticket.meta_description")
	p.addStrings(w, "new_ticket.draft.", "new_ticket.suggestions.", "new_ticket.solved.", "new_ticket.remember.", "in_lang.")
	for _, s := range tickets.Severities {
		p.Severities = append(p.Severities, severityOption{s.Level,
			w.T(lang, fmt.Sprintf("severity.%d.name", s.Level)), w.T(lang, fmt.Sprintf("severity.%d.description", s.Level))})
	}
	for _, d := range deployments {
		p.Deployments = append(p.Deployments, option{d.Value, w.T(lang, "deployment."+deploymentKey(d.Value))})
	}
	for _, l := range ticketLanguages {
		if l.Value == "" {
			l.Label = w.T(lang, "new_ticket.lang_detect")
		}
		p.Languages = append(p.Languages, l)
	}
	if p.Values == nil {
		p.Values = map[string]string{}
	}
	if p.Values["idempotency_key"] == "" {
		p.Values["idempotency_key"] = newFormKey()
	}
	for field, problem := range errs {
		p.Errors[field] = localProblem(w, lang, problem)
	}
	for _, f := range formErrorFields {
		msg, ok := p.Errors[f.field]
		if !ok {
			continue
		}
		if f.label != "" {
			msg = w.T(lang, "new_ticket.error_item", "field", w.T(lang, f.label), "message", msg)
		}
		p.ErrorList = append(p.ErrorList, errorItem{f.anchor, msg})
	}
	return p
}

// newTicket is GET /tickets/new: the draft with live suggestions.
func (h *handler) newTicket(c *fiber.Ctx) error {
	values := map[string]string{"subject": c.Query("subject")}
	// The form carries its own idempotency key: never from a shared cache.
	c.Set(fiber.HeaderCacheControl, "no-store")
	if token := c.Query("mail"); token != "" && h.questions != nil {
		return h.newTicketFromMail(c, token)
	}
	return h.render(c, fiber.StatusOK, "ticket_new", h.ticketNewPage(h.requestLang(c), values, nil))
}

// formFields are the ticket form's text fields.
var formFields = []string{"name", "company", "phone", "email", "subject", "description", "severity",
	"version", "deployment", "environment", "error_messages", "lang", "deflection_session", "idempotency_key"}

// postTicket is POST /tickets, the form without JavaScript too.
func (h *handler) postTicket(c *fiber.Ctx) error {
	nt, values, release, err := h.readNewTicket(c)
	defer release()
	if err == nil {
		var t tickets.Ticket
		var token string
		// Its deflection session is marked filed in the same transaction
		// (app.Open wires deflect.Tracker.TicketFiled as tickets.Config.OnFiledTx).
		t, token, err = h.tickets.File(c.UserContext(), nt)
		if err == nil {
			return c.Redirect(ticketURL(t.Number, token)+"&new=1", fiber.StatusSeeOther)
		}
	}
	h.logRefusedBody(c, err)
	lang := h.formLang(c, values["lang"])
	var ve *tickets.ValidationError
	switch {
	case errors.As(err, &ve):
		return h.render(c, fiber.StatusUnprocessableEntity, "ticket_new", h.ticketNewPage(lang, values, ve.Fields))
	case errors.Is(err, tickets.ErrKeyReused):
		// Back, an edit and Send again: this rendering's key is spent; a
		// new one files the edited form as a new ticket.
		values["idempotency_key"] = ""
		return h.renderFormError(c, fiber.StatusUnprocessableEntity, lang, values, "new_ticket.form_used")
	case errors.Is(err, httpkit.ErrBadMultipart), errors.Is(err, httpkit.ErrBodyTooLarge):
		status, _ := httpkit.StatusOf(err)
		return h.renderFormError(c, status, lang, values, "new_ticket.form_unreadable")
	}
	if errors.Is(err, sqlitedb.ErrUnavailable) {
		// The error handler answers (503) and logs; the customer gets the
		// form back with the draft, not an error page that loses it.
		return httpkit.WithPage(err, func(c *fiber.Ctx, status int, _ string) error {
			lang := h.formLang(c, values["lang"])
			p := h.ticketNewPage(lang, values, nil)
			p.Notice = h.i18n.T(lang, "new_ticket.unavailable")
			return h.render(c, status, "ticket_new", p)
		})
	}
	return err
}

// renderFormError shows the ticket form again with values and a message
// about the form as a whole (key, in lang) at the top.
func (h *handler) renderFormError(c *fiber.Ctx, status int, lang string, values map[string]string, key string) error {
	p := h.ticketNewPage(lang, values, nil)
	msg := h.i18n.T(lang, key)
	p.Errors["form"] = msg
	p.ErrorList = append([]errorItem{{"", msg}}, p.ErrorList...)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.render(c, status, "ticket_new", p)
}

// logRefusedBody logs a filing refused for its body (too many parts, a
// part that does not parse, too large, or no room in the upload budget):
// the client's fault or a busy moment, so a warning, never the body.
func (h *handler) logRefusedBody(c *fiber.Ctx, err error) {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Cut by the connection's read deadline, which logged it (once).
	case errors.Is(err, httpkit.ErrUploading):
		// A client sending many at once would log each: once a minute.
		ip := httpkit.ClientIP(c)
		h.log.Log(c.UserContext(), h.shareReports.Level(ip), "filing refused: client's upload share held", "path", c.Path(),
			"client", ip, "content_length", c.Request().Header.ContentLength())
	case errors.Is(err, httpkit.ErrBadMultipart), errors.Is(err, httpkit.ErrBodyTooLarge),
		errors.Is(err, httpkit.ErrLengthRequired), errors.Is(err, httpkit.ErrUnreadableBody):
		h.log.Warn("filing refused: body", "path", c.Path(), "client", httpkit.ClientIP(c),
			"content_length", c.Request().Header.ContentLength(), "error", err)
	case errors.Is(err, httpkit.ErrBusy):
		h.log.Warn("filing refused: upload budget spent", "path", c.Path(), "client", httpkit.ClientIP(c),
			"content_length", c.Request().Header.ContentLength(), "budget", h.uploads.Capacity())
	}
}

// formLang is the language of the ticket form sent back for corrections:
// the page's (the form posts to /tickets?lang=…), else the language chosen
// for the ticket, else requestLang's.
func (h *handler) formLang(c *fiber.Ctx, ticketLang string) string {
	if c.Query("lang") == "" && h.i18n.Has(ticketLang) {
		return ticketLang
	}
	return h.requestLang(c)
}

// apiPostTicket is POST /api/tickets (JSON or multipart), with an
// optional Idempotency-Key header.
func (h *handler) apiPostTicket(c *fiber.Ctx) error {
	nt, _, release, err := h.readNewTicket(c)
	defer release()
	if err == nil {
		var t tickets.Ticket
		var token string
		if t, token, err = h.tickets.File(c.UserContext(), nt); err == nil {
			c.Set(fiber.HeaderCacheControl, "no-store") // carries the token
			return c.Status(fiber.StatusCreated).JSON(fiber.Map{
				"id": t.ID, "number": t.Number, "token": token, "status": t.Status, "url": ticketURL(t.Number, token),
			})
		}
	}
	h.logRefusedBody(c, err)
	return err
}

func ticketURL(number int, token string) string {
	return fmt.Sprintf("/tickets/%d?token=%s", number, url.QueryEscape(token))
}

// apiGetTicket is GET /api/tickets/:number with the ticket's token.
func (h *handler) apiGetTicket(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	t, err := h.tickets.Get(c.UserContext(), n, httpkit.Bearer(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(httpkit.NewAPITicket(t))
}

// apiReply is POST /api/tickets/:number/replies {"body"} from the customer.
func (h *handler) apiReply(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	if _, err := h.tickets.Get(c.UserContext(), n, httpkit.Bearer(c)); err != nil {
		return err
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(c.Body(), &in); err != nil {
		return httpkit.BadRequest("body: must be a JSON object with body")
	}
	ev, err := h.tickets.Reply(c.UserContext(), n, tickets.ActorCustomer, in.Body)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(httpkit.NewAPIEvent(ev))
}

type ticketPage struct {
	layout
	// AskedLang is the ?lang= the page was opened with, which the reply
	// form carries on; "" when the page follows the ticket's language.
	AskedLang string
	Ticket    ticketView
	Token     string
	New       bool
	Link      string
	LiveURL   string
	LastSeq   int64
	Flash     string
	// A reply that was refused, shown again with the reason.
	ReplyBody  string
	ReplyError string
}

// showTicket is GET /tickets/:number?token=…, the customer's private page.
func (h *handler) showTicket(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	token := c.Query("token")
	t, err := h.tickets.Get(c.UserContext(), n, token)
	if err != nil {
		return err
	}
	p := h.ticketPage(c, t, token)
	p.New = c.Query("new") == "1"
	if c.Query("replied") == "1" {
		p.Flash = h.i18n.T(p.Lang, "ticket.reply_sent")
	}
	return h.render(c, fiber.StatusOK, "ticket", p)
}

// ticketPage fills the ticket page and sets the headers a private page
// needs.
func (h *handler) ticketPage(c *fiber.Ctx, t tickets.Ticket, token string) ticketPage {
	lang := h.ticketLang(c, t.Lang)
	p := ticketPage{
		layout: h.layout(lang, h.i18n.T(lang, "ticket.title", "number", t.Number)), Ticket: newTicketView(h.i18n, lang, t, h.tickets.Calendar()), Token: token,
		Link:    c.BaseURL() + ticketURL(t.Number, token),
		LiveURL: fmt.Sprintf("/api/tickets/%d/live?token=%s", t.Number, url.QueryEscape(token)),
		LastSeq: lastSeq(t),
	}
	p.Description = h.i18n.T(lang, "ticket.meta_description")
	if h.i18n.Match(c.Query("lang")) != "" {
		p.AskedLang = lang
	}
	p.addStrings(h.i18n, ticketScriptStrings...)
	c.Set(fiber.HeaderCacheControl, "no-store") // private: never cached
	c.Set("Referrer-Policy", "no-referrer")     // the token is in the URL
	return p
}

// ticketScriptStrings are the words ticketpage.js needs on a ticket's page
// to follow it live.
var ticketScriptStrings = []string{"ticket.status.", "ticket.plan.", "ticket.sla.", "ticket.live.", "ticket.copy.",
	"ticket.author.", "ticket.size.", "ticket.history.", "ticket.announce.", "severity."}

// postReply is POST /tickets/:number/replies from the ticket page's form.
func (h *handler) postReply(c *fiber.Ctx) error {
	n, err := httpkit.TicketNumber(c)
	if err != nil {
		return err
	}
	token := c.FormValue("token")
	t, err := h.tickets.Get(c.UserContext(), n, token)
	if err != nil {
		return err
	}
	body := c.FormValue("body")
	if _, err := h.tickets.Reply(c.UserContext(), n, tickets.ActorCustomer, body); err != nil {
		var ve *tickets.ValidationError
		if !errors.As(err, &ve) {
			return err
		}
		p := h.ticketPage(c, t, token)
		p.ReplyBody = body
		p.ReplyError = h.i18n.T(p.Lang, "ticket.reply_refused", "reason", localProblem(h.i18n, p.Lang, ve.Fields["body"]))
		return h.render(c, fiber.StatusUnprocessableEntity, "ticket", p)
	}
	next := ticketURL(n, token) + "&replied=1"
	if l := h.i18n.Match(c.Query("lang")); l != "" {
		next += "&lang=" + l
	}
	return c.Redirect(next+"#messages", fiber.StatusSeeOther)
}

// liveCheck refuses, before the upgrade, a live feed for a ticket that does
// not exist or a wrong token (404), or a bad after (400).
func (h *handler) liveCheck(r *http.Request) error {
	_, _, _, err := h.liveParams(r)
	return err
}

func (h *handler) liveParams(r *http.Request) (tickets.Ticket, string, int64, error) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/") // api tickets N live
	if len(parts) != 4 {
		return tickets.Ticket{}, "", 0, httpkit.ErrNotFound
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil || n <= 0 {
		return tickets.Ticket{}, "", 0, httpkit.ErrNotFound
	}
	token := r.URL.Query().Get("token")
	var after int64
	if s := r.URL.Query().Get("after"); s != "" {
		after, err = strconv.ParseInt(s, 10, 64)
		if err != nil || after < 0 {
			return tickets.Ticket{}, "", 0, httpkit.BadRequest("after: must be a sequence number")
		}
	}
	t, err := h.tickets.Get(r.Context(), n, token)
	return t, token, after, err
}

// liveSocket serves /api/tickets/:number/live: a snapshot first, then every
// change as it happens. A client resuming with after=SEQ also gets, with the
// snapshot, the events it missed.
func (h *handler) liveSocket(conn *websocket.Conn, r *http.Request) {
	// Subscribe before reading the ticket, so that nothing committed in
	// between is lost; what the snapshot already holds is skipped by seq.
	n, _ := strconv.Atoi(strings.Split(strings.Trim(r.URL.Path, "/"), "/")[2])
	sub := h.hub.Subscribe(ticketfeed.TicketTopic(n))
	defer sub.Close()
	t, _, after, err := h.liveParams(r)
	if err != nil {
		return
	}
	// Pings from this loop rather than a goroutine of their own: with
	// 10,000 watchers every goroutine per connection costs memory.
	conn.SetReadDeadline(time.Now().Add(httpkit.PongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(httpkit.PongWait)) })
	ping := time.NewTicker(httpkit.PingEvery)
	defer ping.Stop()
	closed := make(chan struct{})
	go func() { // the client sends nothing; reading notices a close
		defer close(closed)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()

	last := lastSeq(t)
	snap := fiber.Map{"type": "snapshot", "seq": last, "ticket": httpkit.NewAPITicket(t)}
	if after > 0 {
		missed := []httpkit.APIEvent{}
		for _, ev := range t.History {
			if ev.Seq > after {
				missed = append(missed, httpkit.NewAPIEvent(ev))
			}
		}
		snap["missed"] = missed
	}
	conn.SetWriteDeadline(time.Now().Add(httpkit.WriteWait))
	if err := conn.WriteJSON(snap); err != nil {
		return
	}
	for {
		select {
		case <-closed:
			return
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(httpkit.WriteWait)); err != nil {
				return
			}
		case m, ok := <-sub.C:
			if !ok { // dropped for falling behind: the client reconnects with after=
				conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "too slow"), time.Now().Add(httpkit.WriteWait))
				return
			}
			if m.Seq <= last {
				continue
			}
			last = m.Seq
			conn.SetWriteDeadline(time.Now().Add(httpkit.WriteWait))
			var err error
			if frame, ok := m.Encoded.(*websocket.PreparedMessage); ok {
				err = conn.WritePreparedMessage(frame)
			} else {
				err = conn.WriteMessage(websocket.TextMessage, m.Data)
			}
			if err != nil {
				return
			}
		}
	}
}

func lastSeq(t tickets.Ticket) int64 {
	var last int64
	for _, ev := range t.History {
		last = max(last, ev.Seq)
	}
	return last
}

// LiveEvent is what the watchers of a ticket's page receive for one of its
// events, {"type":"event","seq","event"}: the customer side's encoder of the
// ticket feed (ticketfeed.Encoders.Customers). It frames the message once
// here, not once per watcher: with 10,000 watchers of one ticket the
// per-connection work is what adds up.
func LiveEvent(ev tickets.Event) (live.Message, error) {
	data, err := json.Marshal(struct {
		Type  string           `json:"type"`
		Seq   int64            `json:"seq"`
		Event httpkit.APIEvent `json:"event"`
	}{"event", ev.Seq, httpkit.NewAPIEvent(ev)})
	if err != nil {
		return live.Message{}, err
	}
	frame, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		return live.Message{}, err
	}
	return live.Message{Seq: ev.Seq, Data: data, Encoded: frame}, nil
}
