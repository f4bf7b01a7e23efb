package tickets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
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
	} `yaml:"organisations"`
}

// customer is what an e-mail domain maps to.
type customer struct {
	Organisation string
	Plan         Plan
}

// plans maps e-mail domains to organisations and plans, from customers.yaml.
// It looks at the file's modification time (and size) at most once a second
// and re-reads it when they changed. A malformed file keeps the last good
// mapping and is logged; a missing file means everyone is on Basic.
type plans struct {
	path string
	now  func() time.Time
	log  *slog.Logger

	mu        sync.Mutex
	checked   time.Time // when the file was last looked at
	modTime   time.Time // of the version last read, good or bad
	size      int64
	exists    bool
	byDomain  map[string]customer
	lastError error // of the last read, nil when it was good
}

func newPlans(path string, now func() time.Time, log *slog.Logger) (*plans, error) {
	p := &plans{path: path, now: now, log: log, byDomain: map[string]customer{}}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refresh(true)
	if p.lastError != nil {
		return nil, p.lastError
	}
	return p, nil
}

// lookup returns the organisation and plan of an e-mail address: by its
// domain, matched exactly and case-insensitively (a subdomain is another
// domain); Basic with no organisation when the domain is not listed.
func (p *plans) lookup(email string) customer {
	_, domain, _ := strings.Cut(email, "@")
	domain = strings.ToLower(domain)
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := p.now(); now.Sub(p.checked) >= time.Second || now.Before(p.checked) {
		p.refresh(false)
	}
	if c, ok := p.byDomain[domain]; ok {
		return c
	}
	return customer{Plan: PlanBasic}
}

// refresh re-reads the file if it changed since the last read. p.mu is held.
func (p *plans) refresh(force bool) {
	p.checked = p.now()
	info, err := os.Stat(p.path)
	if errors.Is(err, fs.ErrNotExist) {
		if p.exists || force {
			p.exists, p.modTime, p.size, p.lastError = false, time.Time{}, 0, nil
			p.byDomain = map[string]customer{}
			if !force {
				p.log.Info("customers file removed: every customer is on the Basic plan", "path", p.path)
			}
		}
		return
	}
	if err != nil {
		p.fail(fmt.Errorf("tickets: customers: %w", err), force)
		return
	}
	if !force && p.exists && info.ModTime().Equal(p.modTime) && info.Size() == p.size {
		return
	}
	p.exists, p.modTime, p.size = true, info.ModTime(), info.Size()
	byDomain, err := readCustomers(p.path)
	if err != nil {
		p.fail(err, force)
		return
	}
	p.byDomain, p.lastError = byDomain, nil
	p.log.Info("customers file loaded", "path", p.path, "domains", len(byDomain))
}

// fail records a failed read; at start (force) the caller reports it.
func (p *plans) fail(err error, force bool) {
	p.lastError = err
	if force {
		return
	}
	p.log.Error("customers file not loaded; keeping the previous version", "path", p.path, "err", err)
}

// readCustomers parses a customers file strictly: unknown keys, unknown
// plans, organisations without a name or domains, and a domain listed twice
// are errors, because a typo there would silently move a paying customer to
// Basic.
func readCustomers(path string) (map[string]customer, error) {
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
	byDomain := map[string]customer{}
	for i, o := range f.Organisations {
		name := strings.TrimSpace(o.Name)
		if name == "" {
			return nil, fmt.Errorf("tickets: customers: %s: organisation %d has no name", path, i+1)
		}
		if !o.Plan.valid() {
			return nil, fmt.Errorf("tickets: customers: %s: %s: plan %q is not basic, priority or individual", path, name, o.Plan)
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
			byDomain[d] = customer{Organisation: name, Plan: o.Plan}
		}
	}
	return byDomain, nil
}
