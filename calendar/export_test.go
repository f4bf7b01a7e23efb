package calendar

import "time"

// Accessors only the tests use.

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// WorkingHours is the daily window as wall-clock "HH:MM" (end may be "24:00").
func (c *Calendar) WorkingHours() (start, end string) {
	return clock(c.open), clock(c.close)
}

// IsWorkingDay reports whether t's date in the calendar's zone is a working
// weekday and not a holiday.
func (c *Calendar) IsWorkingDay(t time.Time) bool { return c.working(c.day(t)) }

// Holiday is the name of the holiday on t's date in the calendar's zone.
func (c *Calendar) Holiday(t time.Time) (name string, ok bool) {
	name, ok = c.holidays[c.day(t)]
	return name, ok
}
