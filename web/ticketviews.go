package web

import (
	"fmt"
	"time"

	"github.com/orbitask/portal/tickets"
)

// apiTicket is a ticket as GET /api/tickets/:number and the live snapshot
// show it to its customer.
type apiTicket struct {
	Number          int          `json:"number"`
	Status          string       `json:"status"`
	Plan            string       `json:"plan"`
	Organisation    string       `json:"organisation,omitempty"`
	Severity        int          `json:"severity"`
	Subject         string       `json:"subject"`
	Lang            string       `json:"lang"`
	AnswerInEnglish bool         `json:"answer_in_english"`
	CreatedAt       time.Time    `json:"created_at"`
	SLADue          *time.Time   `json:"sla_due"` // null: as agreed (individual plan)
	SLAText         string       `json:"sla_text"`
	CallRequired    bool         `json:"call_required"`
	Messages        []apiMessage `json:"messages"`
	History         []apiEvent   `json:"history"`
	Attachments     []apiFile    `json:"attachments"`
}

type apiMessage struct {
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

type apiFile struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// apiEvent is one change of a ticket, as the live feed sends it.
type apiEvent struct {
	Seq     int64       `json:"seq"`
	Kind    string      `json:"kind"`
	Status  string      `json:"status,omitempty"`
	Message *apiMessage `json:"message,omitempty"`
	SLADue  *time.Time  `json:"sla_due,omitempty"`
	Actor   string      `json:"actor"`
	At      time.Time   `json:"at"`
	Text    string      `json:"text"`
}

func newAPITicket(t tickets.Ticket) apiTicket {
	out := apiTicket{
		Number: t.Number, Status: string(t.Status), Plan: string(t.Plan), Organisation: t.Organisation,
		Severity: t.Severity, Subject: t.Subject, Lang: t.Lang, AnswerInEnglish: t.AnswerInEnglish,
		CreatedAt: t.CreatedAt.UTC(), SLADue: optionalTime(t.SLADue), SLAText: slaText(t.Plan, t.SLADue),
		CallRequired: t.CallRequired, Messages: []apiMessage{}, History: []apiEvent{}, Attachments: []apiFile{},
	}
	for _, m := range t.Messages {
		out.Messages = append(out.Messages, apiMessage{m.Author, m.Body, m.CreatedAt.UTC()})
	}
	for _, ev := range t.History {
		out.History = append(out.History, newAPIEvent(ev))
	}
	for _, a := range t.Attachments {
		out.Attachments = append(out.Attachments, apiFile{a.Name, a.Size})
	}
	return out
}

func newAPIEvent(ev tickets.Event) apiEvent {
	out := apiEvent{Seq: ev.Seq, Kind: ev.Kind, Status: string(ev.Status), SLADue: optionalTime(ev.SLADue),
		Actor: ev.Actor, At: ev.At.UTC(), Text: eventText(ev)}
	if ev.Message != nil {
		out.Message = &apiMessage{ev.Message.Author, ev.Message.Body, ev.Message.CreatedAt.UTC()}
	}
	return out
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

var statusLabels = map[tickets.Status]string{
	tickets.StatusNew: "New", tickets.StatusOpen: "Open", tickets.StatusWaiting: "Waiting on you",
	tickets.StatusSolved: "Solved", tickets.StatusClosed: "Closed",
}

var planLabels = map[tickets.Plan]string{
	tickets.PlanBasic: "Basic", tickets.PlanPriority: "Priority", tickets.PlanIndividual: "Individual",
}

// slaText states the commitment in words, with the due time in UTC (the
// page's script shows it in the reader's time zone).
func slaText(plan tickets.Plan, due time.Time) string {
	if due.IsZero() {
		return "Resolution as agreed in your individual support terms."
	}
	when := due.UTC().Format("Monday 2 January 2006, 15:04 UTC")
	switch plan {
	case tickets.PlanPriority:
		return "Priority plan: resolved by the end of the next working day, " + when + "."
	default:
		return "Basic plan: final resolution within 24 working hours, by " + when + "."
	}
}

func eventText(ev tickets.Event) string {
	switch ev.Kind {
	case tickets.KindFiled:
		return "Ticket filed"
	case tickets.KindStatus:
		return "Status changed to " + statusLabels[ev.Status]
	case tickets.KindReply:
		if ev.Message != nil && ev.Message.Author == tickets.ActorSupport {
			return "Support replied"
		}
		return "You replied"
	case tickets.KindSLA:
		return "Resolution target updated"
	}
	return ev.Kind
}

// ticketView is a ticket as its page shows it.
type ticketView struct {
	tickets.Ticket
	Status       string
	StatusLabel  string
	Plan         string
	PlanLabel    string
	SeverityName string
	SLAText      string
	History      []historyLine
}

type historyLine struct {
	Kind, Status, Actor string
	At                  time.Time
	Text                string
}

func newTicketView(t tickets.Ticket) ticketView {
	v := ticketView{Ticket: t, Status: string(t.Status), StatusLabel: statusLabels[t.Status],
		Plan: string(t.Plan), PlanLabel: planLabels[t.Plan], SLAText: slaText(t.Plan, t.SLADue)}
	if t.Severity >= 1 && t.Severity <= len(severities) {
		v.SeverityName = fmt.Sprintf("%d – %s", t.Severity, severities[t.Severity-1].Name)
	}
	for _, ev := range t.History {
		v.History = append(v.History, historyLine{ev.Kind, string(ev.Status), ev.Actor, ev.At, eventText(ev)})
	}
	return v
}
