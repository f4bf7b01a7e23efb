package ticketmail

import (
	"testing"

	"github.com/orbitask/portal/tickets"
)

// TestWhichChangesMail: one change makes at most one mail, and only what
// the customer should hear of makes one.
func TestWhichChangesMail(t *testing.T) {
	msg := &tickets.Message{Author: tickets.ActorSupport, Body: "Try this."}
	reply := tickets.Event{Seq: 10, Kind: tickets.KindReply, Actor: tickets.ActorSupport, Message: msg}
	status := func(to tickets.Status, actor string) tickets.Event {
		return tickets.Event{Seq: 11, Kind: tickets.KindStatus, Status: to, Actor: actor}
	}
	call := func(reason, actor string) tickets.Event {
		return tickets.Event{Seq: 12, Kind: tickets.KindCall, Call: "required", Reason: reason, Actor: actor, Internal: true}
	}
	for _, tc := range []struct {
		name   string
		events []tickets.Event
		kind   string
		seq    int64
		status tickets.Status
		call   bool
	}{
		{"agent reply", []tickets.Event{reply}, KindReply, 10, "", false},
		{"reply by the command line", []tickets.Event{{Seq: 10, Kind: tickets.KindReply, Actor: tickets.ActorSupport, Message: msg}}, KindReply, 10, "", false},
		{"reply that sets waiting: one mail", []tickets.Event{reply, status(tickets.StatusWaiting, tickets.ActorSupport)}, KindReply, 10, tickets.StatusWaiting, false},
		{"reply that solves: one mail", []tickets.Event{reply, status(tickets.StatusSolved, tickets.ActorSupport)}, KindReply, 10, tickets.StatusSolved, false},
		{"reply that raises the call", []tickets.Event{reply, call("reply_rule", tickets.ActorSupport)}, KindReply, 10, "", true},
		{"reply that opens a new ticket", []tickets.Event{reply, status(tickets.StatusOpen, tickets.ActorSupport)}, KindReply, 10, "", false},
		{"waiting", []tickets.Event{status(tickets.StatusWaiting, tickets.ActorSupport)}, KindWaiting, 11, tickets.StatusWaiting, false},
		{"solved from the command line", []tickets.Event{status(tickets.StatusSolved, tickets.ActorCLI)}, KindSolved, 11, tickets.StatusSolved, false},
		{"reopened by support, call", []tickets.Event{status(tickets.StatusOpen, tickets.ActorSupport), call("reply_rule", tickets.ActorSupport)}, KindCall, 12, "", true},
		{"customer reopens, call", []tickets.Event{{Seq: 9, Kind: tickets.KindReply, Actor: tickets.ActorCustomer, Message: &tickets.Message{Author: "customer"}},
			status(tickets.StatusOpen, tickets.ActorCustomer), call("reply_rule", tickets.ActorCustomer)}, KindCall, 12, "", true},
		{"customer's own reply", []tickets.Event{{Seq: 9, Kind: tickets.KindReply, Actor: tickets.ActorCustomer, Message: &tickets.Message{Author: "customer"}}}, "", 0, "", false},
		{"customer marks solved", []tickets.Event{status(tickets.StatusSolved, tickets.ActorCustomer)}, "", 0, "", false},
		{"internal note", []tickets.Event{{Seq: 10, Kind: tickets.KindNote, Actor: tickets.ActorSupport, Internal: true, Message: &tickets.Message{Internal: true}}}, "", 0, "", false},
		{"severity raised, call", []tickets.Event{{Seq: 10, Kind: tickets.KindSeverity, Severity: 1, Actor: tickets.ActorSupport}, call("severity", tickets.ActorSupport)}, "", 0, "", false},
		{"assignment opens", []tickets.Event{{Seq: 10, Kind: tickets.KindAssign, Internal: true, Actor: tickets.ActorSupport}, status(tickets.StatusOpen, tickets.ActorSupport)}, "", 0, "", false},
		{"call done", []tickets.Event{{Seq: 10, Kind: tickets.KindCall, Call: "done", Internal: true, Actor: tickets.ActorSupport}}, "", 0, "", false},
		{"closed", []tickets.Event{status(tickets.StatusClosed, tickets.ActorSupport)}, "", 0, "", false},
		{"SLA moved", []tickets.Event{{Seq: 10, Kind: tickets.KindSLA, Actor: tickets.ActorSupport}}, "", 0, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := read(tc.events)
			if got := o.kind(); got != tc.kind {
				t.Fatalf("kind %q, want %q", got, tc.kind)
			}
			if tc.kind == "" {
				return
			}
			if o.seq != tc.seq || o.status != tc.status || o.call != tc.call {
				t.Errorf("seq %d status %q call %v; want %d %q %v", o.seq, o.status, o.call, tc.seq, tc.status, tc.call)
			}
		})
	}
}

func TestUpperFirst(t *testing.T) {
	for in, want := range map[string]string{"damit": "Damit", "čekáme": "Čekáme", "Our": "Our", "": ""} {
		if got := upperFirst(in); got != want {
			t.Errorf("upperFirst(%q) = %q, want %q", in, got, want)
		}
	}
}
