package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/orbitask/portal/calendar"
	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/ticketmail"
	"github.com/orbitask/portal/tickets"
)

// ticketView is a ticket as its page shows it, in the page's language.
type ticketView struct {
	tickets.Ticket
	Status          string
	StatusLabel     string
	Plan            string
	PlanLabel       string
	SeverityName    string
	SLAText         string // with the due time in UTC; the page's script shows local time
	SLAKind         string // which commitment text: basic, priority, individual, individual_due
	SLAHours        string // Basic's working hours, for its text
	SLAPaused       bool   // the clock stands still while the ticket waits on the customer
	Settled         bool   // solved or closed: no clock runs and no call is coming
	DeploymentLabel string
	History         []historyLine
}

type historyLine struct {
	Kind, Status, Actor string
	At                  time.Time
	Text                string
}

func newTicketView(words *i18n.Bundle, lang string, t tickets.Ticket, cal *calendar.Calendar) ticketView {
	slaText, kind, basicHours := ticketmail.SLA(words, lang, t, cal.Target(string(t.Plan)))
	v := ticketView{Ticket: t, Status: string(t.Status), StatusLabel: words.T(lang, "ticket.status."+string(t.Status)),
		Plan: string(t.Plan), PlanLabel: words.T(lang, "ticket.plan."+string(t.Plan)),
		SeverityName: severityLabel(words, lang, t.Severity), SLAText: slaText,
		SLAKind: kind, SLAHours: basicHours, SLAPaused: t.Status == tickets.StatusWaiting && !t.SLADue.IsZero(),
		Settled: settled(t.Status)}
	if t.Deployment != "" {
		v.DeploymentLabel = words.T(lang, "ticket.deployment."+deploymentKey(string(t.Deployment)))
	}
	for _, ev := range t.History {
		v.History = append(v.History, historyLine{ev.Kind, string(ev.Status), ev.Actor, ev.At, localEventText(words, lang, ev)})
	}
	return v
}

// settled says whether a ticket is done with: its page then promises
// neither a call nor a resolution time (static/ticketpage.js, setStatus, says
// the same as the status changes live).
func settled(s tickets.Status) bool { return s == tickets.StatusSolved || s == tickets.StatusClosed }

// severityLabel is "2 – High" in lang, or the bare number outside 1..4.
func severityLabel(words *i18n.Bundle, lang string, n int) string {
	if n < 1 || n > len(tickets.Severities) {
		return strconv.Itoa(n)
	}
	return words.T(lang, "severity.label", "level", n, "name", words.T(lang, fmt.Sprintf("severity.%d.name", n)))
}

// deploymentKey is a deployment's key in the locales ("own-server" → "own_server").
func deploymentKey(d string) string {
	return strings.ReplaceAll(d, "-", "_")
}

// localEventText is eventText in lang, for the customer: the page's script
// writes the same from an event's kind (static/ticketpage.js, historyText).
func localEventText(words *i18n.Bundle, lang string, ev tickets.Event) string {
	switch ev.Kind {
	case tickets.KindFiled:
		return words.T(lang, "ticket.history.filed")
	case tickets.KindStatus:
		return words.T(lang, "ticket.history.status", "status", words.T(lang, "ticket.status."+string(ev.Status)))
	case tickets.KindReply:
		if ev.Message != nil && ev.Message.Author == tickets.ActorSupport {
			return words.T(lang, "ticket.history.support_replied")
		}
		return words.T(lang, "ticket.history.you_replied")
	case tickets.KindSLA:
		return words.T(lang, "ticket.history.sla")
	case tickets.KindSeverity:
		return words.T(lang, "ticket.history.severity", "severity", severityLabel(words, lang, ev.Severity))
	}
	return words.T(lang, "ticket.history.other")
}

// localProblem is a validation problem in lang, from the locales'
// field_error.CODE with the problem's parameters; a Files problem lists each
// file's problem, "; " between them. A code the locales lack (the agent
// console's and the staff commands' are English only) keeps its English
// message.
func localProblem(words *i18n.Bundle, lang string, p fields.Problem) string {
	if p.Code != fields.Files {
		return localCode(words, lang, p.Code, p.Params, p.Message())
	}
	parts := make([]string, len(p.Files))
	for i, f := range p.Files {
		parts[i] = localCode(words, lang, f.Code, f.Params, f.Message(), "file", f.Name)
	}
	return strings.Join(parts, "; ")
}

// localCode is field_error.CODE in lang with its parameters, or english
// when the locales have no such key.
func localCode(words *i18n.Bundle, lang, code string, params fields.Params, english string, args ...any) string {
	switch code {
	case fields.TooLong, fields.TooManyFiles:
		args = append(args, i18n.CountArg, params.Int("max"))
	case fields.FileTooLarge:
		args = append(args, "max", params.Int("max_mb"))
	}
	key := "field_error." + code
	if msg := words.T(lang, key, args...); msg != key {
		return msg
	}
	return english
}
