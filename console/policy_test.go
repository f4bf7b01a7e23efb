package console_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

const (
	bugNotice     = "A bug report is valid only for the cloud or a recommended installation on the customer&#39;s own server"
	noTranslation = "No machine translation is available; the original is shown."
)

// A ticket whose deployment is "other": the agent's view says it is not a
// valid bug report and offers the standard answer in the ticket's
// language; the queue filters and counts by deployment; a ticket in a
// language outside the four says no translation is available beside the
// original.
func TestPolicyDeploymentAndLanguage(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, pw := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
	token := p.staffToken(t, "api@orbitask.example", staff.RoleAgent)
	b := p.browser()
	b.login(t, "alice@orbitask.example", pw)
	ctx := context.Background()
	file := func(email string, d tickets.Deployment, lang, description string) tickets.Ticket {
		t.Helper()
		tk, _, err := p.svc.Tickets.File(ctx, tickets.NewTicket{Name: "Jean Dupont", Company: "Acme", Phone: "+33 1 23 45 67 89",
			Email: email, Subject: "L'export ne fonctionne pas", Description: description, Severity: 3, Deployment: d, Lang: lang})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	other := file("jean@acme.example", tickets.DeploymentOther, "fr", "Bonjour, l'export ne fonctionne pas sur notre installation Docker maison.")
	cloud := file("marie@acme.example", tickets.DeploymentCloud, "fr", "Bonjour, l'export ne fonctionne pas dans le cloud.")
	swedish := file("sven@acme.example", tickets.DeploymentOwnServer, "sv", "Hej, exporten fungerar inte och sidan visar ett fel.")

	// The agent's view of the "other" ticket.
	res, body := b.send(t, "GET", "/agent/tickets/"+itoa(other.Number), nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, `id="bug-policy"`, "Not a valid bug report", bugNotice, `id="insert-standard-answer"`,
		"in Français", "Selon notre politique de support")
	wantLacks(t, body, noTranslation)
	wantNoInlineCode(t, body)
	// Without script, the link fills the reply box with the answer.
	res, body = b.send(t, "GET", "/agent/tickets/"+itoa(other.Number)+"?answer=bug-policy", nil)
	wantStatus(t, res, http.StatusOK)
	start := strings.Index(body, `id="reply-body"`)
	if start < 0 || !strings.Contains(html.UnescapeString(body[start:start+2000]), ">Merci pour votre signalement. Selon notre politique de support") {
		t.Fatalf("the reply box does not hold the standard answer")
	}
	// A cloud ticket says nothing of it, and ignores ?answer=.
	_, body = b.send(t, "GET", "/agent/tickets/"+itoa(cloud.Number)+"?answer=bug-policy", nil)
	wantLacks(t, body, `id="bug-policy"`, `id="insert-standard-answer"`, "Merci pour votre signalement", noTranslation)

	// Swedish: answered in English, and no translation, the original shown.
	_, body = b.send(t, "GET", "/agent/tickets/"+itoa(swedish.Number), nil)
	wantContains(t, body, "<strong>answer in English</strong>", noTranslation, "Original, ", "Hej, exporten fungerar inte")
	wantLacks(t, body, `id="bug-policy"`)

	// The agent API says the same.
	var api struct {
		Deployment string `json:"deployment"`
		BugReport  *struct {
			Valid              bool   `json:"valid"`
			Notice             string `json:"notice"`
			StandardAnswer     string `json:"standard_answer"`
			StandardAnswerLang string `json:"standard_answer_lang"`
		} `json:"bug_report"`
		Translation *struct {
			Available bool   `json:"available"`
			Notice    string `json:"notice"`
		} `json:"machine_translation"`
	}
	get := func(n int) {
		t.Helper()
		api.BugReport, api.Translation = nil, nil
		res, body := p.get(t, "/api/agent/tickets/"+itoa(n), "Authorization", "Bearer "+token)
		wantStatus(t, res, http.StatusOK)
		if err := json.Unmarshal([]byte(body), &api); err != nil {
			t.Fatal(err)
		}
	}
	get(other.Number)
	if api.Deployment != "other" || api.BugReport == nil || api.BugReport.Valid || api.BugReport.StandardAnswerLang != "fr" ||
		!strings.Contains(api.BugReport.StandardAnswer, "Selon notre politique") || !strings.Contains(api.BugReport.Notice, "valid only") ||
		api.Translation != nil {
		t.Fatalf("other: %+v %+v", api.BugReport, api.Translation)
	}
	get(cloud.Number)
	if api.Deployment != "cloud" || api.BugReport != nil || api.Translation != nil {
		t.Fatalf("cloud: %+v %+v", api.BugReport, api.Translation)
	}
	get(swedish.Number)
	if api.BugReport != nil || api.Translation == nil || api.Translation.Available || api.Translation.Notice != noTranslation {
		t.Fatalf("swedish: %+v %+v", api.BugReport, api.Translation)
	}

	// The queue filters by deployment, on the page and in the API.
	res, body = b.send(t, "GET", "/agent?deployment=other", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, `href="/agent/tickets/`+itoa(other.Number)+`"`, `<option value="other" selected>Other: not a valid bug report (1)`,
		`<option value="cloud">Cloud (1)`, "deployment: other")
	wantLacks(t, body, `href="/agent/tickets/`+itoa(cloud.Number)+`"`, `href="/agent/tickets/`+itoa(swedish.Number)+`"`)
	res, body = p.get(t, "/api/agent/queue?deployment=other", "Authorization", "Bearer "+token)
	wantStatus(t, res, http.StatusOK)
	var q struct {
		Tickets []struct {
			Number     int    `json:"number"`
			Deployment string `json:"deployment"`
		} `json:"tickets"`
		Total  int `json:"total"`
		Counts struct {
			Deployment map[string]int `json:"deployment"`
		} `json:"counts"`
	}
	if err := json.Unmarshal([]byte(body), &q); err != nil {
		t.Fatal(err)
	}
	if q.Total != 1 || len(q.Tickets) != 1 || q.Tickets[0].Number != other.Number || q.Tickets[0].Deployment != "other" ||
		q.Counts.Deployment["other"] != 1 || q.Counts.Deployment["cloud"] != 1 || q.Counts.Deployment["own-server"] != 1 {
		t.Fatalf("queue: %s", body)
	}
	res, body = p.get(t, "/api/agent/queue?deployment=docker", "Authorization", "Bearer "+token)
	wantStatus(t, res, http.StatusBadRequest)
	wantContains(t, body, "deployment")
}
