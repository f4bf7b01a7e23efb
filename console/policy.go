package console

import (
	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/langtag"
	"github.com/orbitask/portal/ticketmail"
	"github.com/orbitask/portal/tickets"
)

// The agent's words on the support policy's other rules (the console is
// English-only; the customer's standard answer is in the ticket's mail
// language, from i18n's policy part).
const (
	bugPolicyNotice = "Deployment: other. A bug report is valid only for the cloud or a recommended installation " +
		"on the customer's own server; this one is neither, so it is not handled as a bug of the application."
	// No well-kept offline Go library translates text (docs/policy.md):
	// the agent reads the original, and says so rather than pretend.
	noTranslationNotice = "No machine translation is available; the original is shown."
)

// ticketPolicy is what the support policy says of a ticket, for the
// agent's view and the agent API.
type ticketPolicy struct {
	OutsideBugPolicy   bool   // deployment "other": not a valid bug report
	BugNotice          string // bugPolicyNotice when OutsideBugPolicy
	StandardAnswer     string // the standard reply, in StandardAnswerLang
	StandardAnswerLang string // the ticket's mail language (en, fr, de, cs)
	// NoTranslation: written in a language outside the four support
	// languages; shown as written, with TranslationNotice beside it.
	NoTranslation     bool
	TranslationNotice string
}

func (h *handler) ticketPolicy(t tickets.Ticket) ticketPolicy {
	var p ticketPolicy
	if tickets.Deployment(t.Deployment).OutsideBugPolicy() {
		lang := ticketmail.MailLang(h.words, t)
		p.OutsideBugPolicy, p.BugNotice = true, bugPolicyNotice
		p.StandardAnswer, p.StandardAnswerLang = h.words.T(lang, "policy.bug_outside"), lang
	}
	if t.AnswerInEnglish || !langtag.IsOfficial(langtag.Base(t.Lang)) {
		p.NoTranslation, p.TranslationNotice = true, noTranslationNotice
	}
	return p
}

// apiBugReport and apiTranslation are the policy's parts of the agent
// API's ticket; absent when the rule does not apply.
type apiBugReport struct {
	Valid              bool   `json:"valid"` // always false when present
	Notice             string `json:"notice"`
	StandardAnswer     string `json:"standard_answer"`
	StandardAnswerLang string `json:"standard_answer_lang"`
}

type apiTranslation struct {
	Available bool   `json:"available"` // always false: none is installed
	Notice    string `json:"notice"`
}

func (p ticketPolicy) api() (*apiBugReport, *apiTranslation) {
	var b *apiBugReport
	var tr *apiTranslation
	if p.OutsideBugPolicy {
		b = &apiBugReport{Notice: p.BugNotice, StandardAnswer: p.StandardAnswer, StandardAnswerLang: p.StandardAnswerLang}
	}
	if p.NoTranslation {
		tr = &apiTranslation{Notice: p.TranslationNotice}
	}
	return b, tr
}

// deploymentFilter reads ?deployment= of the queue: cloud, own-server,
// other, or none (tickets that name no deployment).
func deploymentFilter(c *fiber.Ctx) (tickets.Deployment, error) {
	switch d := tickets.Deployment(c.Query("deployment")); d {
	case "", tickets.DeploymentCloud, tickets.DeploymentOwnServer, tickets.DeploymentOther, tickets.DeploymentNone:
		return d, nil
	}
	return "", httpkit.BadRequest("deployment: must be cloud, own-server, other or none")
}

// deploymentChoices are the queue form's deployment options with counts.
func deploymentChoices(selected string, n tickets.QueueCounts) []choice {
	ch := []choice{{"", "Any deployment", n.Open, selected == ""}}
	for _, d := range []struct {
		value tickets.Deployment
		label string
		count tickets.Deployment
	}{
		{tickets.DeploymentCloud, "Cloud", tickets.DeploymentCloud},
		{tickets.DeploymentOwnServer, "Own server, recommended installation", tickets.DeploymentOwnServer},
		{tickets.DeploymentOther, "Other: not a valid bug report", tickets.DeploymentOther},
		{tickets.DeploymentNone, "Not given", ""},
	} {
		ch = append(ch, choice{string(d.value), d.label, n.Deployment[d.count], selected == string(d.value)})
	}
	return ch
}
