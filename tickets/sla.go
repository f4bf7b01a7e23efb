package tickets

import (
	"fmt"
	"time"
	_ "time/tzdata" // Europe/Prague even on hosts without a zoneinfo database
)

// Calendar is the support desk's working time: Start:00 to End:00 on
// Workdays, in Location. Public holidays come with the business calendar in a
// later issue; until then every listed weekday is a working day.
type Calendar struct {
	Location   *time.Location
	Start, End int // hours of the day, 0..24, Start < End
	Workdays   []time.Weekday
}

// DefaultCalendar is the policy default: Europe/Prague, Monday to Friday,
// 09:00 to 17:00.
func DefaultCalendar() (Calendar, error) {
	loc, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		return Calendar{}, fmt.Errorf("tickets: calendar: %w", err)
	}
	return Calendar{
		Location: loc,
		Start:    9,
		End:      17,
		Workdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	}, nil
}

// basicHours is the Basic plan's commitment: final resolution within 24
// working hours.
const basicHours = 24 * time.Hour

// Due returns the SLA target of a ticket of plan filed at t, and false when
// the plan has no fixed target (individual: as agreed per customer).
//   - basic: 24 working hours after filing; filed outside working hours, the
//     clock starts at the next opening.
//   - priority: the end (End:00) of the first working day after the day of
//     filing, whatever the hour of filing.
func (c Calendar) Due(plan Plan, t time.Time) (time.Time, bool) {
	switch plan {
	case PlanBasic:
		return c.addWorking(t, basicHours).UTC(), true
	case PlanPriority:
		day := c.nextWorkday(c.midnight(t.In(c.Location)).AddDate(0, 0, 1))
		return c.at(day, c.End).UTC(), true
	default:
		return time.Time{}, false
	}
}

// addWorking adds d of working time to t.
func (c Calendar) addWorking(t time.Time, d time.Duration) time.Time {
	t = t.In(c.Location)
	day := c.midnight(t)
	for {
		day = c.nextWorkday(day)
		open, closeAt := c.at(day, c.Start), c.at(day, c.End)
		if t.Before(open) {
			t = open
		}
		if t.Before(closeAt) {
			left := closeAt.Sub(t)
			if d <= left {
				return t.Add(d)
			}
			d -= left
		}
		day = day.AddDate(0, 0, 1)
		t = day
	}
}

// nextWorkday returns day if it is a working day, else the next one.
// day is a midnight in c.Location.
func (c Calendar) nextWorkday(day time.Time) time.Time {
	for i := 0; i < 7; i++ {
		if c.isWorkday(day.Weekday()) {
			return day
		}
		day = day.AddDate(0, 0, 1)
	}
	return day // no working days configured; Open refuses such a calendar
}

func (c Calendar) isWorkday(d time.Weekday) bool {
	for _, w := range c.Workdays {
		if w == d {
			return true
		}
	}
	return false
}

func (c Calendar) midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, c.Location)
}

// at returns hour:00 of day (a midnight in c.Location); AddDate and
// time.Date keep it right across daylight-saving changes.
func (c Calendar) at(day time.Time, hour int) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, hour, 0, 0, 0, c.Location)
}

func (c Calendar) validate() error {
	if c.Location == nil || c.Start < 0 || c.End > 24 || c.Start >= c.End || len(c.Workdays) == 0 {
		return fmt.Errorf("tickets: calendar: needs a location, 0 <= Start < End <= 24 and at least one workday")
	}
	return nil
}
