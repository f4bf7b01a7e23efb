// Package calendar is the support desk's business calendar: time zone,
// working days and hours, public holidays and the per-plan SLA targets, with
// the working-time arithmetic that SLA due times need. It knows nothing of
// tickets or HTTP.
//
// Working hours are wall-clock hours in the calendar's zone: 09:00–17:00 is
// eight working hours on every working day, daylight-saving changes included.
// Only a window that contains a clock change (e.g. 00:00–24:00) is an hour
// shorter or longer on the day of the change.
//
// A Calendar is immutable once built and safe for concurrent use. Its
// arithmetic counts working days arithmetically (whole weeks, a sorted holiday
// list and the zone's clock changes), so spans of years cost about as much as
// spans of days.
package calendar

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Prague even on hosts without a zoneinfo database
)

// Target is a plan's SLA target. The zero Target means "as agreed": the plan
// has no fixed due time.
type Target struct {
	// Fixed is false for "as agreed": Due computes nothing.
	Fixed bool
	// WorkingHours, when positive, makes a ticket due after this much
	// working time from filing (the clock starts at the next opening when
	// filed outside working hours).
	WorkingHours time.Duration
	// EndOfWorkingDay is used when WorkingHours is zero: the ticket is due at
	// closing time of the EndOfWorkingDay-th working day after the calendar
	// day of filing, whatever the hour of filing. 0 means closing time of the
	// filing day, or of the next working day when filed on a day off or at or
	// after closing.
	EndOfWorkingDay int
}

// WithinWorkingHours is a target of d working time after filing.
func WithinWorkingHours(d time.Duration) Target { return Target{Fixed: true, WorkingHours: d} }

// ByEndOfWorkingDay is a target of closing time of the n-th working day after
// the day of filing (see Target.EndOfWorkingDay).
func ByEndOfWorkingDay(n int) Target { return Target{Fixed: true, EndOfWorkingDay: n} }

// String describes the target for a settings page.
func (t Target) String() string {
	switch {
	case !t.Fixed:
		return "as agreed"
	case t.WorkingHours > 0:
		return "within " + strconv.FormatFloat(t.WorkingHours.Hours(), 'f', -1, 64) + " working hours"
	case t.EndOfWorkingDay == 0:
		return "by the end of the working day"
	case t.EndOfWorkingDay == 1:
		return "by the end of the next working day"
	default:
		return fmt.Sprintf("by the end of the %s working day after filing", ordinal(t.EndOfWorkingDay))
	}
}

func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// Holiday is a public holiday: a whole day off.
type Holiday struct {
	Date time.Time // midnight starting the day, in the calendar's zone
	Name string
}

// Calendar is the business calendar. Build it with Default, Parse or Load.
//
// Days are numbered as civil dates (days since 1970-01-01) so that holiday
// lookups and counting need no time-zone arithmetic; only the edges of a
// working window go through time.Date in the calendar's zone.
type Calendar struct {
	loc         *time.Location
	workdays    [7]bool
	perWeek     int // number of working weekdays
	open, close int // minutes after midnight, wall clock; close may be 24*60
	holidays    map[int]string
	days        []int // sorted keys of holidays
	offDays     []int // sorted holidays that fall on working weekdays
	targets     map[string]Target
}

// settings is what the YAML file (or the defaults) says, before indexing.
type settings struct {
	loc         *time.Location
	workdays    [7]bool
	open, close int
	holidays    map[int]string
	targets     map[string]Target
}

func defaultSettings() settings {
	loc, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		panic("calendar: Europe/Prague missing from the embedded tzdata: " + err.Error())
	}
	s := settings{
		loc:      loc,
		open:     9 * 60,
		close:    17 * 60,
		holidays: map[int]string{},
		targets: map[string]Target{
			"basic":      WithinWorkingHours(24 * time.Hour),
			"priority":   ByEndOfWorkingDay(1),
			"individual": {},
		},
	}
	for d := time.Monday; d <= time.Friday; d++ {
		s.workdays[d] = true
	}
	return s
}

// Default is the support policy's calendar: Europe/Prague, Monday to Friday
// 09:00–17:00, no holidays; basic 24 working hours, priority by the end of
// the next working day, individual as agreed.
func Default() *Calendar { return build(defaultSettings()) }

func build(s settings) *Calendar {
	c := &Calendar{
		loc:      s.loc,
		workdays: s.workdays,
		open:     s.open,
		close:    s.close,
		holidays: s.holidays,
		targets:  s.targets,
	}
	for _, w := range c.workdays {
		if w {
			c.perWeek++
		}
	}
	for n := range c.holidays {
		c.days = append(c.days, n)
		if c.workdays[weekday(n)] {
			c.offDays = append(c.offDays, n)
		}
	}
	sort.Ints(c.days)
	sort.Ints(c.offDays)
	return c
}

// WorkingDays lists the working weekdays, Monday first.
func (c *Calendar) WorkingDays() []time.Weekday {
	var days []time.Weekday
	for i := 1; i <= 7; i++ {
		if d := time.Weekday(i % 7); c.workdays[d] {
			days = append(days, d)
		}
	}
	return days
}

func clock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// Target is plan's SLA target; an unknown plan is "as agreed".
func (c *Calendar) Target(plan string) Target { return c.targets[plan] }

// Targets is a copy of the per-plan targets, for display.
func (c *Calendar) Targets() map[string]Target {
	m := make(map[string]Target, len(c.targets))
	for k, v := range c.targets {
		m[k] = v
	}
	return m
}

// Hours is the time zone, working days and hours, e.g. "Europe/Prague;
// Mon Tue Wed Thu Fri 09:00–17:00": the part of Describe that a page listing
// the targets and holidays on their own does not repeat.
func (c *Calendar) Hours() string {
	var days []string
	for _, d := range c.WorkingDays() {
		days = append(days, d.String()[:3])
	}
	return c.loc.String() + "; " + strings.Join(days, " ") + " " + clock(c.open) + "–" + clock(c.close)
}

// Describe is a one-paragraph summary for a settings page, e.g.
// "Europe/Prague; Mon Tue Wed Thu Fri 09:00–17:00; 0 holidays; basic: within
// 24 working hours; individual: as agreed; priority: by the end of the next
// working day".
func (c *Calendar) Describe() string {
	parts := []string{c.Hours(), fmt.Sprintf("%d holidays", len(c.days))}
	var names []string
	for k := range c.targets {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		parts = append(parts, k+": "+c.targets[k].String())
	}
	return strings.Join(parts, "; ")
}

// Due is the SLA due time (in UTC) of a ticket filed at filed under target
// t, and false when t is "as agreed".
//
// Working-hours targets use AddWorking. End-of-working-day targets follow the
// policy text "resolved by the next working day" literally: the due time is
// closing time of the n-th working day after the calendar day of filing,
// whatever the hour, so priority filed Fri 20:00 or Sat 11:00 is due Mon
// 17:00 and a holiday on that day moves it to the next working day.
func (c *Calendar) Due(t Target, filed time.Time) (time.Time, bool) {
	switch {
	case !t.Fixed:
		return time.Time{}, false
	case t.WorkingHours > 0:
		return c.AddWorking(filed, t.WorkingHours), true
	}
	n, k := c.day(filed), t.EndOfWorkingDay
	if k <= 0 {
		if c.working(n) {
			if _, closeAt := c.window(n); filed.Before(closeAt) {
				return closeAt.UTC(), true
			}
		}
		k = 1
	}
	m := search(n+1, 7*k/c.perWeek+7, func(m int) bool { return c.workingDays(n+1, m+1) >= k })
	_, closeAt := c.window(m)
	return closeAt.UTC(), true
}

// AddWorking is t plus d of working time, in UTC: the earliest instant r
// with WorkingBetween(t, r) == d. So the clock starts at the next opening
// when t is outside working hours, a result that fills a day up to closing
// is that closing time (not the next opening), and d <= 0 returns t itself,
// even outside working hours: pushing a due time by zero paused time must not
// move it.
func (c *Calendar) AddWorking(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t.UTC()
	}
	n := c.day(t)
	if c.working(n) {
		openAt, closeAt := c.window(n)
		if t.Before(openAt) {
			t = openAt
		}
		if t.Before(closeAt) {
			left := closeAt.Sub(t)
			if d <= left {
				return t.Add(d).UTC()
			}
			d -= left
		}
	}
	n++
	// The first whole day m after t's by which d is used up.
	guess := int(d/c.nominal())*7/c.perWeek + 7
	m := search(n, guess, func(m int) bool { return c.fullDays(n, m+1) >= d })
	openAt, _ := c.window(m)
	return openAt.Add(d - c.fullDays(n, m)).UTC()
}

// WorkingBetween is the working time in [a, b); 0 when b is not after a.
func (c *Calendar) WorkingBetween(a, b time.Time) time.Duration {
	if !a.Before(b) {
		return 0
	}
	na, nb := c.day(a), c.day(b)
	if na == nb {
		return c.overlap(na, a, b)
	}
	return c.overlap(na, a, b) + c.fullDays(na+1, nb) + c.overlap(nb, a, b)
}

// Holidays lists the holidays dated from from's date through to's date
// (both inclusive, in the calendar's zone), weekends included, by date.
func (c *Calendar) Holidays(from, to time.Time) []Holiday {
	lo, hi := sort.SearchInts(c.days, c.day(from)), sort.SearchInts(c.days, c.day(to)+1)
	var out []Holiday
	for _, n := range c.days[lo:max(lo, hi)] {
		out = append(out, Holiday{Date: c.wall(n, 0), Name: c.holidays[n]})
	}
	return out
}

// day is the day number of t's date in the calendar's zone.
func (c *Calendar) day(t time.Time) int { return dayNum(t.In(c.loc).Date()) }

func dayNum(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// weekday of day number n; 1970-01-01 was a Thursday.
func weekday(n int) time.Weekday { return time.Weekday(((n+4)%7 + 7) % 7) }

// wall is min minutes after midnight of day n, wall clock in the zone;
// time.Date normalises 24:00 to the next midnight.
func (c *Calendar) wall(n, min int) time.Time {
	y, m, d := time.Unix(int64(n)*86400, 0).UTC().Date()
	return time.Date(y, m, d, 0, min, 0, 0, c.loc)
}

func (c *Calendar) working(n int) bool {
	if !c.workdays[weekday(n)] {
		return false
	}
	_, off := c.holidays[n]
	return !off
}

// window is day n's working window; it is never negative, even when a clock
// change swallows an opening time.
func (c *Calendar) window(n int) (openAt, closeAt time.Time) {
	openAt, closeAt = c.wall(n, c.open), c.wall(n, c.close)
	if closeAt.Before(openAt) {
		closeAt = openAt
	}
	return openAt, closeAt
}

func (c *Calendar) nominal() time.Duration { return time.Duration(c.close-c.open) * time.Minute }

// overlap is the working time of day n that lies in [a, b).
func (c *Calendar) overlap(n int, a, b time.Time) time.Duration {
	if !c.working(n) {
		return 0
	}
	openAt, closeAt := c.window(n)
	if a.After(openAt) {
		openAt = a
	}
	if b.Before(closeAt) {
		closeAt = b
	}
	if closeAt.After(openAt) {
		return closeAt.Sub(openAt)
	}
	return 0
}

// workingDays counts the working days among days [n1, n2): whole weeks by
// multiplication, holidays by binary search.
func (c *Calendar) workingDays(n1, n2 int) int {
	if n2 <= n1 {
		return 0
	}
	weeks := (n2 - n1) / 7
	count := weeks * c.perWeek
	for n := n1 + weeks*7; n < n2; n++ {
		if c.workdays[weekday(n)] {
			count++
		}
	}
	return count - (sort.SearchInts(c.offDays, n2) - sort.SearchInts(c.offDays, n1))
}

// fullDays is the working time of whole days [n1, n2). Every working day
// has the nominal length except one whose window contains a clock change,
// so only the days around the zone's transitions are measured.
func (c *Calendar) fullDays(n1, n2 int) time.Duration {
	if n2 <= n1 {
		return 0
	}
	total := time.Duration(c.workingDays(n1, n2)) * c.nominal()
	t, end := c.wall(n1-1, 0), c.wall(n2+1, 0)
	last := n1 - 1 // days already corrected, transitions come in order
	for {
		_, next := t.ZoneBounds()
		if next.IsZero() || !next.Before(end) {
			return total
		}
		d := c.day(next)
		for m := max(d-1, last+1, n1); m <= d+1 && m < n2; m++ {
			if c.working(m) {
				openAt, closeAt := c.window(m)
				total += closeAt.Sub(openAt) - c.nominal()
			}
			last = m
		}
		t = next
	}
}

// search is the least m >= lo with ok(m), for ok monotone and eventually
// true; it gallops from lo+guess, then bisects.
func search(lo, guess int, ok func(int) bool) int {
	step := max(guess, 1)
	hi := lo + step
	for !ok(hi) {
		lo = hi + 1
		step *= 2
		hi = lo + step
	}
	return lo + sort.Search(hi-lo, func(i int) bool { return ok(lo + i) })
}
