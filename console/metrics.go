package console

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/insights"
)

// defaultPeriodDays is the period of /api/metrics/deflection without from
// and to.
const defaultPeriodDays = 30

// plainErrors answers a refused scrape of /metrics in plain text, as a
// scraper shows it, rather than with the customer side's error page; a 401
// carries the Bearer challenge as the API's do.
func plainErrors(c *fiber.Ctx) error {
	if err := c.Next(); err != nil {
		return httpkit.WithPage(err, func(c *fiber.Ctx, status int, msg string) error {
			if status == fiber.StatusUnauthorized {
				c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="orbitask"`)
			}
			c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
			return c.Status(status).SendString(msg + "\n")
		})
	}
	return nil
}

// deflectionOut is the answer of /api/metrics/deflection: insights.Funnel
// over [from, to). Rates are null when undefined (nothing to divide by).
type deflectionOut struct {
	From                      time.Time `json:"from"`
	To                        time.Time `json:"to"`
	Drafts                    int       `json:"drafts"`
	Shown                     int       `json:"shown"`
	Opened                    int       `json:"opened"`
	Solved                    int       `json:"solved"`
	Abandoned                 int       `json:"abandoned"`
	AbandonedAfterSuggestions int       `json:"abandoned_after_suggestions"`
	Filed                     int       `json:"filed"`
	DeflectionRate            *float64  `json:"deflection_rate"`
	ImplicitRate              *float64  `json:"implicit_rate"`
	ClickThrough              *float64  `json:"click_through"`
	KBVisitors                int       `json:"kb_visitors"`
	FilingCustomers           int       `json:"filing_customers"`
	SelfService               *float64  `json:"self_service"`
}

// apiDeflection is GET /api/metrics/deflection?from=&to=: the deflection
// funnel of the drafts started in the period.
func (h *handler) apiDeflection(c *fiber.Ctx) error {
	p, err := queryPeriod(c, time.Now())
	if err != nil {
		return err
	}
	f, err := h.insights.Funnel(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(deflectionOut{From: p.From, To: p.To, Drafts: f.Drafts, Shown: f.Shown, Opened: f.Opened, Solved: f.Solved,
		Abandoned: f.Abandoned, AbandonedAfterSuggestions: f.AbandonedAfterSuggestions, Filed: f.Filed,
		DeflectionRate: f.DeflectionRate, ImplicitRate: f.ImplicitRate, ClickThrough: f.ClickThrough,
		KBVisitors: f.KBVisitors, FilingCustomers: f.FilingCustomers, SelfService: f.SelfService})
}

// queryPeriod reads ?from=&to=. A date (YYYY-MM-DD) is a whole UTC day:
// from its start, to its end, so that from=to=a date is that day. An RFC
// 3339 time is taken as given, to excluded. Without either, the last 30
// days up to today; from alone runs to the end of today, to alone covers
// the 30 days before it. A bad value or to before from is refused, the
// field named (422).
func queryPeriod(c *fiber.Ctx, now time.Time) (insights.Period, error) {
	from, _, err := parseWhen(c.Query("from"))
	if err != nil {
		return insights.Period{}, fields.Invalid("from", fields.Date)
	}
	to, toDate, err := parseWhen(c.Query("to"))
	if err != nil {
		return insights.Period{}, fields.Invalid("to", fields.Date)
	}
	if toDate {
		to = to.AddDate(0, 0, 1)
	}
	switch {
	case from.IsZero() && to.IsZero():
		return insights.LastDays(now, defaultPeriodDays), nil
	case to.IsZero():
		to = now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1) // the end of today
	case from.IsZero():
		from = to.AddDate(0, 0, -defaultPeriodDays)
	}
	// A date to is its day's end: equal to from, it is the day before.
	if to.Before(from) || toDate && to.Equal(from) {
		field := "to"
		if c.Query("to") == "" {
			field = "from" // after the end of today, where to defaults
		}
		return insights.Period{}, fields.Invalid(field, fields.DateOrder)
	}
	// As the dashboard's: a longer period would roll up (and store) figures
	// for every day of it, holding the one writer meanwhile.
	if to.Sub(from) > maxPeriodDays*24*time.Hour {
		return insights.Period{}, fields.Invalid("from", fields.PeriodTooLong, "max", maxPeriodDays)
	}
	return insights.Period{From: from, To: to}, nil
}

// parseWhen reads a date or an RFC 3339 time, in UTC; "" is the zero time.
func parseWhen(s string) (t time.Time, date bool, err error) {
	if s == "" {
		return time.Time{}, false, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, nil
	}
	t, err = time.Parse(time.RFC3339, s)
	return t.UTC(), false, err
}
