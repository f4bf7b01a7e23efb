package tickets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/orbitask/portal/calendar"
)

// Plan is a customer's support plan.
type Plan string

// The plans of the support policy.
const (
	PlanBasic      Plan = "basic"      // free; 24 working hours
	PlanPriority   Plan = "priority"   // paid; by the next working day
	PlanIndividual Plan = "individual" // negotiated; as agreed
)

func (p Plan) valid() bool {
	return p == PlanBasic || p == PlanPriority || p == PlanIndividual
}

// customersFile is the shape of DataDir/customers.yaml.
type customersFile struct {
	Organisations []struct {
		Name    string   `yaml:"name"`
		Domains []string `yaml:"domains"`
		Plan    Plan     `yaml:"plan"`
		Terms   *struct {
			Resolution *struct {
				WorkingHours    *float64 `yaml:"working_hours"`
				EndOfWorkingDay *int     `yaml:"end_of_working_day"`
			} `yaml:"resolution"`
			CallAfterReplies int  `yaml:"call_after_replies"`
			Queue            Plan `yaml:"queue"`
		} `yaml:"terms"`
	} `yaml:"organisations"`
}

// customer is what an e-mail domain maps to.
type customer struct {
	Organisation string
	Plan         Plan
	// Individual terms (plan individual only): the resolution target
	// (nil = as agreed, no clock), how many agent replies before support
	// calls, and which plan's place in the queue the tickets take.
	Resolution       *calendar.Target
	CallAfterReplies int
	Queue            Plan
}

// customers maps e-mail domains to organisations, plans and terms.
type customers map[string]customer

// lookup returns the organisation and plan of an e-mail address: by its
// domain, matched exactly and case-insensitively (a subdomain is another
// domain); Basic with no organisation when the domain is not listed.
func (cs customers) lookup(email string) customer {
	_, domain, _ := strings.Cut(email, "@")
	if c, ok := cs[strings.ToLower(domain)]; ok {
		return c
	}
	return customer{Plan: PlanBasic, Queue: PlanBasic}
}

func newPlans(path string, now func() time.Time, log *slog.Logger) (*reloading[customers], error) {
	return newReloading(path, "customers file", readCustomers, func() customers { return customers{} }, now, log)
}

// readCustomers parses a customers file strictly: unknown keys, unknown
// plans, organisations without a name or domains, and a domain listed twice
// are errors, because a typo there would silently move a paying customer to
// Basic.
func readCustomers(path string) (customers, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tickets: customers: %w", err)
	}
	var f customersFile
	dec := yaml.NewDecoder(bytes.NewReader(body))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("tickets: customers: %s: %w", path, err)
	}
	byDomain := customers{}
	for i, o := range f.Organisations {
		name := strings.TrimSpace(o.Name)
		if name == "" {
			return nil, fmt.Errorf("tickets: customers: %s: organisation %d has no name", path, i+1)
		}
		if !o.Plan.valid() {
			return nil, fmt.Errorf("tickets: customers: %s: %s: plan %q is not basic, priority or individual", path, name, o.Plan)
		}
		c := customer{Organisation: name, Plan: o.Plan, Queue: o.Plan}
		if o.Terms != nil {
			if o.Plan != PlanIndividual {
				return nil, fmt.Errorf("tickets: customers: %s: %s: terms: only the individual plan has terms of its own", path, name)
			}
			if r := o.Terms.Resolution; r != nil {
				switch {
				case (r.WorkingHours == nil) == (r.EndOfWorkingDay == nil):
					return nil, fmt.Errorf("tickets: customers: %s: %s: terms.resolution: give working_hours or end_of_working_day", path, name)
				case r.WorkingHours != nil && *r.WorkingHours <= 0:
					return nil, fmt.Errorf("tickets: customers: %s: %s: terms.resolution.working_hours: must be more than 0", path, name)
				case r.EndOfWorkingDay != nil && *r.EndOfWorkingDay < 0:
					return nil, fmt.Errorf("tickets: customers: %s: %s: terms.resolution.end_of_working_day: must be 0 or more", path, name)
				case r.WorkingHours != nil:
					t := calendar.WithinWorkingHours(time.Duration(*r.WorkingHours * float64(time.Hour)))
					c.Resolution = &t
				default:
					t := calendar.ByEndOfWorkingDay(*r.EndOfWorkingDay)
					c.Resolution = &t
				}
			}
			if o.Terms.CallAfterReplies < 0 {
				return nil, fmt.Errorf("tickets: customers: %s: %s: terms.call_after_replies: must be 0 (the default) or more", path, name)
			}
			c.CallAfterReplies = o.Terms.CallAfterReplies
			switch o.Terms.Queue {
			case "", PlanPriority:
				c.Queue = PlanPriority
			case PlanBasic:
				c.Queue = PlanBasic
			default:
				return nil, fmt.Errorf("tickets: customers: %s: %s: terms.queue: %q is not priority or basic", path, name, o.Terms.Queue)
			}
		} else if o.Plan == PlanIndividual {
			c.Queue = PlanPriority
		}
		if len(o.Domains) == 0 {
			return nil, fmt.Errorf("tickets: customers: %s: %s: no domains", path, name)
		}
		for _, d := range o.Domains {
			d = strings.ToLower(strings.TrimSpace(d))
			if d == "" || strings.ContainsAny(d, "@ /") || !strings.Contains(d, ".") {
				return nil, fmt.Errorf("tickets: customers: %s: %s: %q is not an e-mail domain", path, name, d)
			}
			if prev, ok := byDomain[d]; ok {
				return nil, fmt.Errorf("tickets: customers: %s: domain %s is listed for both %s and %s", path, d, prev.Organisation, name)
			}
			byDomain[d] = c
		}
	}
	return byDomain, nil
}
