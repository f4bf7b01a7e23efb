package httpkit

import (
	"time"

	"github.com/orbitask/portal/tickets"
)

// The customer's JSON view of a ticket: GET /api/tickets/:number, the live
// feed's snapshot and events (the customer side), and the base that the
// agent API's ticket extends (the console).

// APITicket is a ticket as GET /api/tickets/:number and the live snapshot
// show it to its customer.
type APITicket struct {
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
	Messages        []APIMessage `json:"messages"`
	History         []APIEvent   `json:"history"`
	Attachments     []APIFile    `json:"attachments"`
}

// APIMessage is a message of the conversation.
type APIMessage struct {
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	// HTML is support's Markdown rendered safely (raw HTML and unsafe links
	// left out); customers' messages are plain text and have none.
	HTML string `json:"html,omitempty"`
}

func newAPIMessage(m tickets.Message) APIMessage {
	out := APIMessage{Author: m.Author, Body: m.Body, CreatedAt: m.CreatedAt.UTC()}
	if m.Author == tickets.ActorSupport {
		out.HTML = string(Markdown(m.Body))
	}
	return out
}

// APIFile is an attachment, by name and size.
type APIFile struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// APIEvent is one change of a ticket, as the live feed sends it.
type APIEvent struct {
	Seq      int64       `json:"seq"`
	Kind     string      `json:"kind"`
	Status   string      `json:"status,omitempty"`
	Message  *APIMessage `json:"message,omitempty"`
	SLADue   *time.Time  `json:"sla_due,omitempty"`
	Severity int         `json:"severity,omitempty"` // for "severity": the new severity
	Plan     string      `json:"plan,omitempty"`     // for "filed": the plan; for "sla": the plan the ticket moved up to when its address was confirmed
	Actor    string      `json:"actor"`
	At       time.Time   `json:"at"`
	Text     string      `json:"text"`
}

// NewAPITicket is t as its customer sees it; t holds only what the customer
// may see (tickets.Ticket.ForCustomer for a ticket read in full).
func NewAPITicket(t tickets.Ticket) APITicket {
	out := APITicket{
		Number: t.Number, Status: string(t.Status), Plan: string(t.Plan), Organisation: t.Organisation,
		Severity: t.Severity, Subject: t.Subject, Lang: t.Lang, AnswerInEnglish: t.AnswerInEnglish,
		CreatedAt: t.CreatedAt.UTC(), SLADue: optionalTime(t.SLADue), SLAText: slaText(t.Plan, t.SLADue),
		CallRequired: t.CallRequired, Messages: []APIMessage{}, History: []APIEvent{}, Attachments: []APIFile{},
	}
	for _, m := range t.Messages {
		out.Messages = append(out.Messages, newAPIMessage(m))
	}
	for _, ev := range t.History {
		out.History = append(out.History, NewAPIEvent(ev))
	}
	for _, a := range t.Attachments {
		out.Attachments = append(out.Attachments, APIFile{a.Name, a.Size})
	}
	return out
}

// NewAPIEvent is ev as its ticket's customer sees it.
func NewAPIEvent(ev tickets.Event) APIEvent {
	out := APIEvent{Seq: ev.Seq, Kind: ev.Kind, Status: string(ev.Status), SLADue: optionalTime(ev.SLADue),
		Severity: ev.Severity, Plan: string(ev.Plan), Actor: ev.Actor, At: ev.At.UTC(), Text: eventText(ev)}
	if ev.Message != nil {
		m := newAPIMessage(*ev.Message)
		out.Message = &m
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

// slaText states the commitment in words, with the due time in UTC (the
// page's script shows it in the reader's time zone).
func slaText(plan tickets.Plan, due time.Time) string {
	if due.IsZero() {
		return "Resolution as agreed in your individual support terms."
	}
	when := due.UTC().Format("Monday 2 January 2006, 15:04 UTC")
	switch plan {
	case tickets.PlanIndividual:
		return "Individual terms: resolution by " + when + "."
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
		return "Status changed to " + ev.Status.Label()
	case tickets.KindReply:
		if ev.Message != nil && ev.Message.Author == tickets.ActorSupport {
			return "Support replied"
		}
		return "You replied"
	case tickets.KindSLA:
		return "Resolution target updated"
	case tickets.KindSeverity:
		if ev.Severity >= 1 && ev.Severity <= len(tickets.Severities) {
			return "Severity changed to " + tickets.SeverityName(ev.Severity)
		}
	}
	return ev.Kind
}
