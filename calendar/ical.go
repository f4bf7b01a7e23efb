package calendar

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// Recurring iCal holidays are expanded once, when the calendar is built, for
// every occurrence before icalUntil. A fixed bound keeps the Calendar
// immutable and lookups a map read; unlike a window around "now" it does not
// go stale in a long-running process or depend on when the file was loaded.
// One-off events are kept whatever their date.
const (
	icalUntil = 2100 // first year not expanded
	maxDays   = 50000
)

// readICal reads the all-day VEVENTs of an iCalendar file as holidays, by
// day number. Timed events are not holidays (a closure of a few hours is not
// a day off) and are ignored, as are cancelled ones. A multi-day event
// covers every day up to its exclusive DTEND; RRULE, RDATE and EXDATE expand.
// Errors name the file.
func readICal(path string) (map[int]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // names the file already
	}
	defer f.Close()
	days := map[int]string{}
	dec := ical.NewDecoder(f)
	for {
		cal, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			return days, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, ev := range cal.Events() {
			if err := addEvent(days, ev); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if len(days) > maxDays {
				return nil, fmt.Errorf("%s: more than %d holidays; is a recurrence rule too frequent?", path, maxDays)
			}
		}
	}
}

func addEvent(days map[int]string, ev ical.Event) error {
	name, _ := ev.Props.Text(ical.PropSummary)
	name = strings.TrimSpace(name)
	what := fmt.Sprintf("event %q", name)
	if name == "" {
		name = "Public holiday"
		if uid, _ := ev.Props.Text(ical.PropUID); uid != "" {
			what = fmt.Sprintf("event %s", uid)
		}
	}
	start := ev.Props.Get(ical.PropDateTimeStart)
	if start == nil {
		return fmt.Errorf("%s: no DTSTART", what)
	}
	allDay := start.Params.Get(ical.ParamValue) == string(ical.ValueDate) || len(start.Value) == len("20060102")
	if !allDay {
		return nil
	}
	if status, _ := ev.Status(); status == ical.EventCancelled {
		return nil
	}
	// Dates parsed in UTC are civil dates at midnight: no zone arithmetic.
	first, err := ev.DateTimeStart(time.UTC)
	if err != nil {
		return fmt.Errorf("%s: DTSTART: %w", what, err)
	}
	end, err := ev.DateTimeEnd(time.UTC)
	if err != nil {
		return fmt.Errorf("%s: DTEND: %w", what, err)
	}
	length := max(int(end.Sub(first)/(24*time.Hour)), 1)
	cover := func(t time.Time) {
		n := dayNum(t.Date())
		for i := range length {
			if _, ok := days[n+i]; !ok {
				days[n+i] = name
			}
		}
	}
	// go-ical's RecurrenceSet honours EXDATE but drops RDATE, so extra
	// dates are read here.
	for _, p := range ev.Props.Values(ical.PropRecurrenceDates) {
		for _, v := range strings.Split(p.Value, ",") {
			d, err := time.Parse("20060102", v[:min(len(v), 8)])
			if err != nil {
				return fmt.Errorf("%s: RDATE %q is not a date", what, v)
			}
			cover(d)
		}
	}
	set, err := ev.RecurrenceSet(time.UTC)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if set == nil {
		cover(first)
		return nil
	}
	next := set.Iterator()
	for count := 0; ; count++ {
		t, ok := next()
		if !ok || t.Year() >= icalUntil {
			return nil
		}
		if count > maxDays {
			return fmt.Errorf("%s: RRULE repeats more than %d times before %d", what, maxDays, icalUntil)
		}
		cover(t)
	}
}
