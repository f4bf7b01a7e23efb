package tickets

import "fmt"

// The support policy's words in English: its severity levels and the names
// of statuses and plans, as the agent console and the API's event texts
// write them. The customer pages take theirs, in the reader's language, from
// the i18n bundle.

// SeverityLevel is one level of the policy's severity scale.
type SeverityLevel struct {
	Level             int
	Name, Description string
}

// Severities are the policy's levels, 1 (the most severe) to 4; a
// description says when a customer chooses the level.
var Severities = []SeverityLevel{
	{1, "Urgent", "Production is down or production data is lost, and there is no way to work around it."},
	{2, "High", "The product works, but production use is severely limited for a large part of your business, with no workaround."},
	{3, "Normal", "Partial, non-critical loss of use; your business continues, with or without a workaround."},
	{4, "Low", "A usage question, a documentation error or an idea for an improvement."},
}

// SeverityName is a level with its name, "2 – High"; a number outside the
// scale stays a bare number.
func SeverityName(n int) string {
	if n >= 1 && n <= len(Severities) {
		return fmt.Sprintf("%d – %s", n, Severities[n-1].Name)
	}
	return fmt.Sprint(n)
}

var statusNames = map[Status]string{
	StatusNew: "New", StatusOpen: "Open", StatusWaiting: "Waiting on you",
	StatusSolved: "Solved", StatusClosed: "Closed",
}

// Label is the status's name ("Waiting on you"); "" for a status the policy
// does not have.
func (s Status) Label() string { return statusNames[s] }

var planNames = map[Plan]string{
	PlanBasic: "Basic", PlanPriority: "Priority", PlanIndividual: "Individual",
}

// Label is the plan's name ("Priority"); "" for a plan the policy does not
// have.
func (p Plan) Label() string { return planNames[p] }
