package calendar

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load reads the calendar file at path (DATA/calendar.yaml); a missing file
// is Default, since the file is optional.
func Load(path string) (*Calendar, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return Parse(data, path, filepath.Dir(path))
}

// Parse reads a calendar file's contents. name is the file as errors should
// show it ("calendar.yaml:7: working_hours.start: ..."); dir is the directory
// that relative holidays_ical paths are in. Keys left out, or left empty,
// keep the policy default; targets replace the default of each plan listed.
func Parse(data []byte, name, dir string) (*Calendar, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := defaultSettings()
	p := parser{name: name, dir: dir}
	if err := p.document(&doc, &s); err != nil {
		return nil, err
	}
	return build(s), nil
}

type parser struct{ name, dir string }

// errorf is an operator's error: file, line, field, problem.
func (p parser) errorf(n *yaml.Node, field, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s: %s", p.name, n.Line, field, fmt.Sprintf(format, args...))
}

// field handles one key of a mapping; a null value means "keep the default"
// and never reaches the handler.
type field struct {
	key    string
	handle func(key, value *yaml.Node) error
}

// fields walks a mapping, refusing unknown and repeated keys so that a typo
// is reported rather than silently ignored.
func (p parser) fields(m *yaml.Node, path string, known []field) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], deref(m.Content[i+1])
		at := join(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			return p.errorf(k, at, "already set on line %d", line)
		}
		seen[k.Value] = k.Line
		var f *field
		for j := range known {
			if known[j].key == k.Value {
				f = &known[j]
			}
		}
		if f == nil {
			var keys []string
			for _, f := range known {
				keys = append(keys, f.key)
			}
			return p.errorf(k, at, "unknown key (want %s)", orList(keys))
		}
		if isNull(v) {
			continue
		}
		if err := f.handle(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (p parser) document(doc *yaml.Node, s *settings) error {
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // empty file: defaults
	}
	root := deref(doc.Content[0])
	if isNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return p.errorf(root, "calendar", "want a mapping of settings (time_zone, working_days, ...), got %s", kind(root))
	}
	var icalFiles []*yaml.Node
	err := p.fields(root, "", []field{
		{"time_zone", func(_, v *yaml.Node) error { return p.timeZone(v, s) }},
		{"working_days", func(_, v *yaml.Node) error { return p.workingDays(v, s) }},
		{"working_hours", func(_, v *yaml.Node) error { return p.workingHours(v, s) }},
		{"holidays", func(_, v *yaml.Node) error { return p.holidays(v, s) }},
		{"holidays_ical", func(_, v *yaml.Node) error {
			if v.Kind == yaml.ScalarNode {
				icalFiles = []*yaml.Node{v}
				return nil
			}
			if v.Kind != yaml.SequenceNode {
				return p.errorf(v, "holidays_ical", "want a list of .ics files, got %s", kind(v))
			}
			icalFiles = v.Content
			return nil
		}},
		{"targets", func(_, v *yaml.Node) error { return p.targets(v, s) }},
	})
	if err != nil {
		return err
	}
	// iCal files after the YAML list, whatever the key order: a holiday
	// named in calendar.yaml keeps its name; otherwise the first file wins.
	for _, f := range icalFiles {
		f = deref(f)
		if f.Kind != yaml.ScalarNode || f.Value == "" {
			return p.errorf(f, "holidays_ical", "want a file name, got %s", kind(f))
		}
		path := f.Value
		if !filepath.IsAbs(path) {
			path = filepath.Join(p.dir, path)
		}
		days, err := readICal(path)
		if err != nil {
			return fmt.Errorf("%s:%d: holidays_ical: %w", p.name, f.Line, err)
		}
		for n, name := range days {
			if _, ok := s.holidays[n]; !ok {
				s.holidays[n] = name
			}
		}
	}
	return nil
}

func (p parser) timeZone(v *yaml.Node, s *settings) error {
	name, err := p.scalar(v, "time_zone")
	if err != nil {
		return err
	}
	if name == "" || name == "Local" {
		return p.errorf(v, "time_zone", "%q is not an IANA zone name such as Europe/Prague", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return p.errorf(v, "time_zone", "unknown time zone %q (want an IANA name such as Europe/Prague)", name)
	}
	s.loc = loc
	return nil
}

func (p parser) workingDays(v *yaml.Node, s *settings) error {
	if v.Kind != yaml.SequenceNode {
		return p.errorf(v, "working_days", "want a list such as [mon, tue, wed, thu, fri], got %s", kind(v))
	}
	if len(v.Content) == 0 {
		return p.errorf(v, "working_days", "needs at least one working day")
	}
	var days [7]bool
	for _, e := range v.Content {
		name, err := p.scalar(deref(e), "working_days")
		if err != nil {
			return err
		}
		d, ok := parseWeekday(name)
		if !ok {
			return p.errorf(e, "working_days", "%q is not a weekday (mon … sun or monday … sunday)", name)
		}
		if days[d] {
			return p.errorf(e, "working_days", "%q is listed twice", name)
		}
		days[d] = true
	}
	s.workdays = days
	return nil
}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(s)
	for d := time.Sunday; d <= time.Saturday; d++ {
		full := strings.ToLower(d.String())
		if s == full || s == full[:3] {
			return d, true
		}
	}
	return 0, false
}

func (p parser) workingHours(v *yaml.Node, s *settings) error {
	if v.Kind != yaml.MappingNode {
		return p.errorf(v, "working_hours", `want {start: "09:00", end: "17:00"}, got %s`, kind(v))
	}
	clockField := func(dst *int, allow24 bool) func(k, v *yaml.Node) error {
		return func(k, v *yaml.Node) error {
			at := "working_hours." + k.Value
			text, err := p.scalar(v, at)
			if err != nil {
				return err
			}
			min, ok := parseClock(text)
			if !ok {
				return p.errorf(v, at, "%q is not HH:MM", text)
			}
			if min == 24*60 && !allow24 {
				return p.errorf(v, at, "24:00 is allowed only as the end")
			}
			*dst = min
			return nil
		}
	}
	err := p.fields(v, "working_hours", []field{
		{"start", clockField(&s.open, false)},
		{"end", clockField(&s.close, true)},
	})
	if err != nil {
		return err
	}
	if s.open >= s.close {
		return p.errorf(v, "working_hours", "start %s is not before end %s", clock(s.open), clock(s.close))
	}
	return nil
}

// parseClock reads "HH:MM" (or "H:MM") as minutes after midnight, up to 24:00.
func parseClock(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return 0, false
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if mm > 59 || hh > 24 || hh == 24 && mm != 0 {
		return 0, false
	}
	return hh*60 + mm, true
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (p parser) holidays(v *yaml.Node, s *settings) error {
	if v.Kind != yaml.SequenceNode {
		return p.errorf(v, "holidays", "want a list of dates or {date, name}, got %s", kind(v))
	}
	lines := map[int]int{}
	for _, e := range v.Content {
		e = deref(e)
		dateNode, name := e, "Public holiday"
		switch e.Kind {
		case yaml.ScalarNode:
		case yaml.MappingNode:
			dateNode = nil
			err := p.fields(e, "holidays", []field{
				{"date", func(_, v *yaml.Node) error { dateNode = v; return nil }},
				{"name", func(_, v *yaml.Node) error {
					text, err := p.scalar(v, "holidays.name")
					name = text
					return err
				}},
			})
			if err != nil {
				return err
			}
			if dateNode == nil {
				return p.errorf(e, "holidays", "entry has no date")
			}
		default:
			return p.errorf(e, "holidays", "want a date or {date, name}, got %s", kind(e))
		}
		text, err := p.scalar(dateNode, "holidays.date")
		if err != nil {
			return err
		}
		d, err := time.Parse(time.DateOnly, text)
		if err != nil {
			return p.errorf(dateNode, "holidays.date", "%q is not a date (YYYY-MM-DD)", text)
		}
		n := dayNum(d.Date())
		if line, dup := lines[n]; dup {
			return p.errorf(dateNode, "holidays.date", "%s is already listed on line %d", text, line)
		}
		lines[n] = dateNode.Line
		s.holidays[n] = name
	}
	return nil
}

func (p parser) targets(v *yaml.Node, s *settings) error {
	if v.Kind != yaml.MappingNode {
		return p.errorf(v, "targets", "want a mapping of plan to target, got %s", kind(v))
	}
	var known []field
	for _, plan := range []string{"basic", "priority", "individual"} {
		known = append(known, field{plan, func(k, v *yaml.Node) error {
			t, err := p.target(v, "targets."+k.Value)
			s.targets[k.Value] = t
			return err
		}})
	}
	// A plan with no value ("individual:") is as agreed, not the default.
	for i := 0; i+1 < len(v.Content); i += 2 {
		if isNull(deref(v.Content[i+1])) {
			s.targets[v.Content[i].Value] = Target{}
		}
	}
	return p.fields(v, "targets", known)
}

// target reads {working_hours: 24}, {end_of_working_day: 1} or {} (as agreed).
func (p parser) target(v *yaml.Node, at string) (Target, error) {
	if v.Kind != yaml.MappingNode {
		return Target{}, p.errorf(v, at, "want {working_hours: N}, {end_of_working_day: N} or {}, got %s", kind(v))
	}
	var t Target
	var set *yaml.Node
	one := func(k *yaml.Node) error {
		if set != nil {
			return p.errorf(k, at, "give either working_hours or end_of_working_day, not both")
		}
		set = k
		return nil
	}
	err := p.fields(v, at, []field{
		{"working_hours", func(k, v *yaml.Node) error {
			if err := one(k); err != nil {
				return err
			}
			text, err := p.scalar(v, at+".working_hours")
			if err != nil {
				return err
			}
			h, err := strconv.ParseFloat(text, 64)
			if err != nil || math.IsNaN(h) || math.IsInf(h, 0) {
				return p.errorf(v, at+".working_hours", "%q is not a number of hours", text)
			}
			if h <= 0 || h > 10000 {
				return p.errorf(v, at+".working_hours", "%s is not between 0 (exclusive) and 10000 hours", text)
			}
			t = WithinWorkingHours(time.Duration(math.Round(h*3600)) * time.Second)
			return nil
		}},
		{"end_of_working_day", func(k, v *yaml.Node) error {
			if err := one(k); err != nil {
				return err
			}
			text, err := p.scalar(v, at+".end_of_working_day")
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(text)
			if err != nil || n < 0 || n > 365 {
				return p.errorf(v, at+".end_of_working_day", "%q is not a whole number of working days from 0 to 365", text)
			}
			t = ByEndOfWorkingDay(n)
			return nil
		}},
	})
	return t, err
}

func (p parser) scalar(v *yaml.Node, at string) (string, error) {
	v = deref(v)
	if v.Kind != yaml.ScalarNode {
		return "", p.errorf(v, at, "want a single value, got %s", kind(v))
	}
	return v.Value, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orList(keys []string) string {
	if len(keys) < 2 {
		return strings.Join(keys, "")
	}
	return strings.Join(keys[:len(keys)-1], ", ") + " or " + keys[len(keys)-1]
}
