package console

import (
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/insights"
)

// maxPeriodDays bounds a custom period: a year and a day (a leap year
// whole), as many days as a daily chart can show.
const maxPeriodDays = 366

const dateLayout = "2006-01-02"

// periodView is the period picker: the period shown, the one compared
// with, and what was wrong with a custom one.
type periodView struct {
	Days     string // "7", "30", "90"; "" for a custom period
	From, To string // the date inputs' values: first and last day, inclusive
	Label    string // "4 Nov – 3 Dec 2026"
	Previous string // the previous period's label
	Query    string // the period as query parameters, for links and exports
	Presets  []preset
	// Errors maps "period", "from" or "to" to what is wrong with it; the
	// page then shows no figures and answers 422.
	Errors map[string]string
}

type preset struct {
	Days, Label, URL string
	Current          bool
}

// readPeriod reads ?period=N (7, 30 or 90; 30 when absent) or
// ?from=DATE&to=DATE (UTC days, both included), the latter first.
func readPeriod(c *fiber.Ctx, now time.Time) (insights.Period, periodView) {
	v := periodView{From: c.Query("from"), To: c.Query("to"), Errors: map[string]string{}}
	var p insights.Period
	q := url.Values{}
	if v.From != "" || v.To != "" {
		from, errFrom := time.Parse(dateLayout, v.From)
		to, errTo := time.Parse(dateLayout, v.To)
		switch {
		case v.From == "":
			v.Errors["from"] = "From: enter the first day of the period."
		case errFrom != nil:
			v.Errors["from"] = "From: " + strconv.Quote(v.From) + " is not a date; write it as 2026-11-01."
		}
		switch {
		case v.To == "":
			v.Errors["to"] = "To: enter the last day of the period."
		case errTo != nil:
			v.Errors["to"] = "To: " + strconv.Quote(v.To) + " is not a date; write it as 2026-11-30."
		case errFrom == nil && to.Before(from):
			v.Errors["to"] = "To: the last day is before the first (From)."
		case errFrom == nil && to.Sub(from) >= maxPeriodDays*24*time.Hour:
			v.Errors["to"] = "To: a period is at most " + strconv.Itoa(maxPeriodDays) + " days long."
		}
		p = insights.Period{From: from, To: to.AddDate(0, 0, 1)}
		q.Set("from", v.From)
		q.Set("to", v.To)
	} else {
		n := 30
		if s := c.Query("period"); s != "" {
			var err error
			if n, err = strconv.Atoi(s); err != nil || (n != 7 && n != 30 && n != 90) {
				v.Errors["period"] = "Period: choose the last 7, 30 or 90 days, or two dates."
				n = 30
			}
		}
		v.Days = strconv.Itoa(n)
		p = insights.LastDays(now, n)
		q.Set("period", v.Days)
		v.From, v.To = p.From.Format(dateLayout), p.To.AddDate(0, 0, -1).Format(dateLayout)
	}
	for _, d := range []string{"7", "30", "90"} {
		v.Presets = append(v.Presets, preset{Days: d, Label: "Last " + d + " days", URL: "/operator?period=" + d, Current: d == v.Days})
	}
	if len(v.Errors) > 0 {
		return insights.Period{}, v
	}
	v.Query = q.Encode()
	v.Label = periodLabel(p)
	v.Previous = periodLabel(p.Previous())
	return p, v
}

// periodLabel is a period's days, the last included: "4 Nov – 3 Dec 2026".
func periodLabel(p insights.Period) string {
	last := p.To.AddDate(0, 0, -1)
	switch {
	case !last.After(p.From):
		return p.From.Format("2 Jan 2006")
	case p.From.Year() != last.Year():
		return p.From.Format("2 Jan 2006") + " – " + last.Format("2 Jan 2006")
	default:
		return p.From.Format("2 Jan") + " – " + last.Format("2 Jan 2006")
	}
}
