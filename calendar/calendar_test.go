package calendar

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func parse(t testing.TB, yml string) *Calendar {
	t.Helper()
	c, err := Parse([]byte(yml), "calendar.yaml", "testdata")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withHoliday is the default calendar with Tue 2026-06-02 off.
func withHoliday(t testing.TB) *Calendar {
	return parse(t, "holidays: [{date: 2026-06-02, name: Test Day}]\n")
}

// June 2026: Mon 1 … Fri 5, Sat 6, Sun 7, Mon 8; CEST (+02:00).
func TestDueWorkingHours(t *testing.T) {
	def, hol := Default(), withHoliday(t)
	basic := def.Target("basic")
	tests := []struct {
		name        string
		cal         *Calendar
		target      Target
		filed, want string
	}{
		{"Mon 10:00", def, basic, "2026-06-01T10:00:00+02:00", "2026-06-04T10:00:00+02:00"},
		{"Fri 16:00 skips the weekend", def, basic, "2026-06-05T16:00:00+02:00", "2026-06-10T16:00:00+02:00"},
		{"Sat: clock starts Mon 09:00", def, basic, "2026-06-06T11:00:00+02:00", "2026-06-10T17:00:00+02:00"},
		{"before opening", def, basic, "2026-06-01T08:00:00+02:00", "2026-06-03T17:00:00+02:00"},
		{"after closing", def, basic, "2026-06-01T18:00:00+02:00", "2026-06-04T17:00:00+02:00"},
		{"exactly at closing", def, basic, "2026-06-01T17:00:00+02:00", "2026-06-04T17:00:00+02:00"},
		{"exactly at opening", def, basic, "2026-06-01T09:00:00+02:00", "2026-06-03T17:00:00+02:00"},
		{"given in UTC", def, basic, "2026-06-01T08:00:00Z", "2026-06-04T10:00:00+02:00"},
		{"holiday inside the window", hol, basic, "2026-06-01T10:00:00+02:00", "2026-06-05T10:00:00+02:00"},
		{"filed on a holiday", hol, basic, "2026-06-02T10:00:00+02:00", "2026-06-05T17:00:00+02:00"},
		{"fractional 4.5 h", def, WithinWorkingHours(4*time.Hour + 30*time.Minute), "2026-06-01T15:00:00+02:00", "2026-06-02T11:30:00+02:00"},
		{"DST spring: wall-clock hours", def, basic, "2026-03-27T14:00:00+01:00", "2026-04-01T12:00:00Z"},
		{"DST autumn: wall-clock hours", def, basic, "2026-10-23T14:00:00+02:00", "2026-10-28T13:00:00Z"},
	}
	for _, tt := range tests {
		got, ok := tt.cal.Due(tt.target, ts(t, tt.filed))
		if !ok || !got.Equal(ts(t, tt.want)) || got.Location() != time.UTC {
			t.Errorf("%s: Due(%s) = %s, %v; want %s (UTC)", tt.name, tt.filed, got.Format(time.RFC3339), ok, tt.want)
		}
	}
}

func TestDueEndOfWorkingDay(t *testing.T) {
	def, hol := Default(), withHoliday(t)
	priority := def.Target("priority")
	tests := []struct {
		name        string
		cal         *Calendar
		target      Target
		filed, want string
	}{
		{"Mon 10:00", def, priority, "2026-06-01T10:00:00+02:00", "2026-06-02T17:00:00+02:00"},
		{"Mon 18:00 after closing", def, priority, "2026-06-01T18:00:00+02:00", "2026-06-02T17:00:00+02:00"},
		{"Mon 08:00 before opening", def, priority, "2026-06-01T08:00:00+02:00", "2026-06-02T17:00:00+02:00"},
		{"Fri 10:00", def, priority, "2026-06-05T10:00:00+02:00", "2026-06-08T17:00:00+02:00"},
		{"Fri 20:00", def, priority, "2026-06-05T20:00:00+02:00", "2026-06-08T17:00:00+02:00"},
		{"Sat 11:00", def, priority, "2026-06-06T11:00:00+02:00", "2026-06-08T17:00:00+02:00"},
		{"Sun 23:30", def, priority, "2026-06-07T23:30:00+02:00", "2026-06-08T17:00:00+02:00"},
		{"Sun 23:30 given in UTC", def, priority, "2026-06-07T21:30:00Z", "2026-06-08T17:00:00+02:00"},
		{"next day a holiday", hol, priority, "2026-06-01T10:00:00+02:00", "2026-06-03T17:00:00+02:00"},
		{"filed on the holiday", hol, priority, "2026-06-02T10:00:00+02:00", "2026-06-03T17:00:00+02:00"},
		{"over the spring DST weekend", def, priority, "2026-03-27T16:00:00+01:00", "2026-03-30T15:00:00Z"},
		{"0: same day", def, ByEndOfWorkingDay(0), "2026-06-01T10:00:00+02:00", "2026-06-01T17:00:00+02:00"},
		{"0: at closing", def, ByEndOfWorkingDay(0), "2026-06-01T17:00:00+02:00", "2026-06-02T17:00:00+02:00"},
		{"0: Sat", def, ByEndOfWorkingDay(0), "2026-06-06T11:00:00+02:00", "2026-06-08T17:00:00+02:00"},
		{"0: on a holiday", hol, ByEndOfWorkingDay(0), "2026-06-02T08:00:00+02:00", "2026-06-03T17:00:00+02:00"},
		{"2: Thu", def, ByEndOfWorkingDay(2), "2026-06-04T12:00:00+02:00", "2026-06-08T17:00:00+02:00"},
		{"10: two weeks", def, ByEndOfWorkingDay(10), "2026-06-01T12:00:00+02:00", "2026-06-15T17:00:00+02:00"},
	}
	for _, tt := range tests {
		got, ok := tt.cal.Due(tt.target, ts(t, tt.filed))
		if !ok || !got.Equal(ts(t, tt.want)) || got.Location() != time.UTC {
			t.Errorf("%s: Due(%s) = %s, %v; want %s (UTC)", tt.name, tt.filed, got.Format(time.RFC3339), ok, tt.want)
		}
	}
}

func TestDueAsAgreed(t *testing.T) {
	c := Default()
	for _, plan := range []string{"individual", "no-such-plan"} {
		if got, ok := c.Due(c.Target(plan), ts(t, "2026-06-01T10:00:00+02:00")); ok || !got.IsZero() {
			t.Errorf("Due(%s) = %s, %v; want zero, false", plan, got, ok)
		}
	}
}

func TestAddWorking(t *testing.T) {
	c := Default()
	tests := []struct {
		name string
		from string
		d    time.Duration
		want string
	}{
		{"zero inside hours", "2026-06-01T10:00:00+02:00", 0, "2026-06-01T10:00:00+02:00"},
		{"zero outside hours stays put", "2026-06-06T11:00:00+02:00", 0, "2026-06-06T11:00:00+02:00"},
		{"zero at closing stays at closing", "2026-06-01T17:00:00+02:00", 0, "2026-06-01T17:00:00+02:00"},
		{"negative is zero", "2026-06-01T10:00:00+02:00", -time.Hour, "2026-06-01T10:00:00+02:00"},
		{"fills the day up to closing", "2026-06-01T09:00:00+02:00", 8 * time.Hour, "2026-06-01T17:00:00+02:00"},
		{"one minute past a full day", "2026-06-01T09:00:00+02:00", 8*time.Hour + time.Minute, "2026-06-02T09:01:00+02:00"},
		{"from closing", "2026-06-01T17:00:00+02:00", time.Hour, "2026-06-02T10:00:00+02:00"},
		{"a minute from Sun", "2026-06-07T12:00:00+02:00", time.Minute, "2026-06-08T09:01:00+02:00"},
		{"a year of working hours", "2026-01-05T09:00:00+01:00", 52 * 40 * time.Hour, "2027-01-01T17:00:00+01:00"},
	}
	for _, tt := range tests {
		got := c.AddWorking(ts(t, tt.from), tt.d)
		if !got.Equal(ts(t, tt.want)) || got.Location() != time.UTC {
			t.Errorf("%s: AddWorking(%s, %s) = %s; want %s", tt.name, tt.from, tt.d, got.Format(time.RFC3339), tt.want)
		}
	}
}

func TestWorkingBetween(t *testing.T) {
	def, hol := Default(), withHoliday(t)
	tests := []struct {
		name string
		cal  *Calendar
		a, b string
		want time.Duration
	}{
		{"same day", def, "2026-06-01T10:00:00+02:00", "2026-06-01T12:30:00+02:00", 2*time.Hour + 30*time.Minute},
		{"across a night", def, "2026-06-01T16:00:00+02:00", "2026-06-02T10:00:00+02:00", 2 * time.Hour},
		{"across a weekend", def, "2026-06-05T15:00:00+02:00", "2026-06-08T11:00:00+02:00", 4 * time.Hour},
		{"across a holiday", hol, "2026-06-01T15:00:00+02:00", "2026-06-03T11:00:00+02:00", 4 * time.Hour},
		{"a before opening", def, "2026-06-01T06:00:00+02:00", "2026-06-01T10:00:00+02:00", time.Hour},
		{"a after closing", def, "2026-06-01T20:00:00+02:00", "2026-06-02T10:00:00+02:00", time.Hour},
		{"b after closing", def, "2026-06-01T16:00:00+02:00", "2026-06-01T23:00:00+02:00", time.Hour},
		{"b on a Sunday", def, "2026-06-05T16:00:00+02:00", "2026-06-07T10:00:00+02:00", time.Hour},
		{"both outside hours", def, "2026-06-01T18:00:00+02:00", "2026-06-02T08:00:00+02:00", 0},
		{"spring DST weekend", def, "2026-03-27T14:00:00+01:00", "2026-03-30T14:00:00+02:00", 8 * time.Hour},
		{"autumn DST weekend", def, "2026-10-23T14:00:00+02:00", "2026-10-26T14:00:00+01:00", 8 * time.Hour},
		{"a full year 2026", def, "2026-01-01T00:00:00+01:00", "2027-01-01T00:00:00+01:00", 261 * 8 * time.Hour},
		{"equal", def, "2026-06-01T10:00:00+02:00", "2026-06-01T10:00:00+02:00", 0},
		{"reversed", def, "2026-06-02T10:00:00+02:00", "2026-06-01T10:00:00+02:00", 0},
	}
	for _, tt := range tests {
		if got := tt.cal.WorkingBetween(ts(t, tt.a), ts(t, tt.b)); got != tt.want {
			t.Errorf("%s: WorkingBetween(%s, %s) = %s; want %s", tt.name, tt.a, tt.b, got, tt.want)
		}
	}
}

// The tickets package pushes a due time by the working time a ticket spent
// waiting on the customer.
func TestPauseMovesDue(t *testing.T) {
	c := Default()
	due, _ := c.Due(c.Target("basic"), ts(t, "2026-06-01T10:00:00+02:00")) // Thu 10:00
	paused := c.WorkingBetween(ts(t, "2026-06-02T15:00:00+02:00"), ts(t, "2026-06-04T11:00:00+02:00"))
	if paused != 12*time.Hour { // Tue 15–17, Wed 09–17, Thu 09–11
		t.Fatalf("paused = %s; want 12h", paused)
	}
	if got, want := c.AddWorking(due, paused), ts(t, "2026-06-05T14:00:00+02:00"); !got.Equal(want) {
		t.Errorf("due after pause = %s; want %s", got.Format(time.RFC3339), want.Format(time.RFC3339))
	}
	// A pause that was all outside working hours changes nothing, even
	// for a due time at closing.
	priorityDue, _ := c.Due(c.Target("priority"), ts(t, "2026-06-01T10:00:00+02:00"))
	paused = c.WorkingBetween(ts(t, "2026-06-01T18:00:00+02:00"), ts(t, "2026-06-02T08:00:00+02:00"))
	if got := c.AddWorking(priorityDue, paused); !got.Equal(priorityDue) {
		t.Errorf("zero pause moved %s to %s", priorityDue, got)
	}
}

func TestAroundTheClock(t *testing.T) {
	c := parse(t, `
working_days: [Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday]
working_hours: {start: "00:00", end: "24:00"}
`)
	tests := []struct {
		a, b string
		want time.Duration
	}{
		{"2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23 * time.Hour},
		{"2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25 * time.Hour},
		{"2026-03-28T12:00:00+01:00", "2026-03-29T12:00:00+02:00", 23 * time.Hour},
		{"2026-06-01T12:00:00+02:00", "2026-06-08T12:00:00+02:00", 7 * 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := c.WorkingBetween(ts(t, tt.a), ts(t, tt.b)); got != tt.want {
			t.Errorf("WorkingBetween(%s, %s) = %s; want %s", tt.a, tt.b, got, tt.want)
		}
	}
	if got, want := c.AddWorking(ts(t, "2026-03-28T12:00:00+01:00"), 24*time.Hour), "2026-03-29T13:00:00+02:00"; !got.Equal(ts(t, want)) {
		t.Errorf("AddWorking over spring DST = %s; want %s", got.Format(time.RFC3339), want)
	}
	r := rand.New(rand.NewPCG(1, 2))
	base := ts(t, "2026-01-01T00:00:00Z")
	for range 2000 {
		a := base.Add(time.Duration(r.Int64N(int64(2 * 365 * 24 * time.Hour))))
		d := time.Duration(r.Int64N(int64(60 * 24 * time.Hour)))
		if got := c.AddWorking(a, d); !got.Equal(a.Add(d)) {
			t.Fatalf("AddWorking(%s, %s) = %s; want wall-clock %s", a, d, got, a.Add(d))
		}
		if got := c.WorkingBetween(a, a.Add(d)); got != d {
			t.Fatalf("WorkingBetween(%s, +%s) = %s", a, d, got)
		}
	}
}

func TestHolidayQueries(t *testing.T) {
	c := withHoliday(t)
	if name, ok := c.Holiday(ts(t, "2026-06-02T23:30:00+02:00")); !ok || name != "Test Day" {
		t.Errorf("Holiday = %q, %v", name, ok)
	}
	if _, ok := c.Holiday(ts(t, "2026-06-02T23:30:00Z")); ok { // Wed 01:30 in Prague
		t.Error("the holiday's date is in the calendar's zone, not UTC")
	}
	for s, want := range map[string]bool{
		"2026-06-01T10:00:00+02:00": true,
		"2026-06-02T10:00:00+02:00": false, // holiday
		"2026-06-06T10:00:00+02:00": false, // Saturday
	} {
		if got := c.IsWorkingDay(ts(t, s)); got != want {
			t.Errorf("IsWorkingDay(%s) = %v", s, got)
		}
	}
}

// naiveBetween and naiveAdd walk day by day: the obvious algorithm the
// arithmetic in fullDays must agree with.
func naiveBetween(c *Calendar, a, b time.Time) time.Duration {
	var total time.Duration
	for n := c.day(a); n <= c.day(b); n++ {
		total += c.overlap(n, a, b)
	}
	return total
}

func naiveAdd(c *Calendar, t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t.UTC()
	}
	for n := c.day(t); ; n++ {
		if !c.working(n) {
			continue
		}
		openAt, closeAt := c.window(n)
		if t.Before(openAt) {
			t = openAt
		}
		if t.Before(closeAt) {
			if left := closeAt.Sub(t); d <= left {
				return t.Add(d).UTC()
			} else {
				d -= left
			}
		}
	}
}

func TestArithmeticMatchesDayByDay(t *testing.T) {
	cals := map[string]*Calendar{
		"default":  Default(),
		"holidays": parse(t, "holidays_ical: [holidays.ics]\nholidays: [2026-06-02, 2026-06-03, 2026-06-04, 2026-06-05, 2026-06-08]\n"),
		"24/7":     parse(t, "working_days: [mon, tue, wed, thu, fri, sat, sun]\nworking_hours: {start: \"00:00\", end: \"24:00\"}\n"),
		"night":    parse(t, "working_days: [sun, mon]\nworking_hours: {start: \"01:30\", end: \"03:15\"}\n"),
		// São Paulo changed clocks at midnight until 2019.
		"sao paulo": parse(t, "time_zone: America/Sao_Paulo\nworking_days: [sat, sun, mon]\nworking_hours: {start: \"00:00\", end: \"24:00\"}\n"),
	}
	r := rand.New(rand.NewPCG(3, 4))
	base := ts(t, "2015-01-01T00:00:00Z")
	for name, c := range cals {
		for range 3000 {
			a := base.Add(time.Duration(r.Int64N(int64(12 * 365 * 24 * time.Hour))))
			b := a.Add(time.Duration(r.Int64N(int64(40 * 24 * time.Hour))))
			if got, want := c.WorkingBetween(a, b), naiveBetween(c, a, b); got != want {
				t.Fatalf("%s: WorkingBetween(%s, %s) = %s; day by day %s", name, a, b, got, want)
			}
			d := time.Duration(r.Int64N(int64(80 * time.Hour)))
			if got, want := c.AddWorking(a, d), naiveAdd(c, a, d); !got.Equal(want) {
				t.Fatalf("%s: AddWorking(%s, %s) = %s; day by day %s", name, a, d, got, want)
			}
		}
	}
}

// AddWorking undoes WorkingBetween whenever b is inside working hours
// (after an opening, up to a closing).
func TestAddWorkingInvertsWorkingBetween(t *testing.T) {
	for name, c := range map[string]*Calendar{
		"default":  Default(),
		"holidays": parse(t, "holidays_ical: [holidays.ics]\nworking_hours: {start: \"08:30\", end: \"18:15\"}\n"),
	} {
		r := rand.New(rand.NewPCG(5, 6))
		base := ts(t, "2026-01-01T00:00:00Z")
		for range 5000 {
			a := base.Add(time.Duration(r.Int64N(int64(2*365*24*time.Hour))) / time.Minute * time.Minute)
			// b: a random minute of a working day up to 60 days on.
			n := c.day(a) + r.IntN(60)
			for !c.working(n) {
				n++
			}
			openAt, closeAt := c.window(n)
			b := openAt.Add(time.Duration(1+r.Int64N(int64(closeAt.Sub(openAt)/time.Minute))) * time.Minute)
			if !b.After(a) {
				continue
			}
			w := c.WorkingBetween(a, b)
			if got := c.AddWorking(a, w); !got.Equal(b) {
				t.Fatalf("%s: AddWorking(%s, WorkingBetween(a, %s) = %s) = %s", name, a, b, w, got)
			}
		}
	}
}

func TestDefaultDescribe(t *testing.T) {
	c := Default()
	if c.Location().String() != "Europe/Prague" {
		t.Errorf("Location = %s", c.Location())
	}
	want := "Europe/Prague; Mon Tue Wed Thu Fri 09:00–17:00; 0 holidays; basic: within 24 working hours; individual: as agreed; priority: by the end of the next working day"
	if got := c.Describe(); got != want {
		t.Errorf("Describe =\n %s\nwant\n %s", got, want)
	}
	if s := ByEndOfWorkingDay(2).String(); !strings.Contains(s, "2nd working day") {
		t.Errorf("String = %q", s)
	}
}

func BenchmarkAddWorking24h(b *testing.B) {
	c := parse(b, "holidays_ical: [holidays.ics]\n")
	filed := ts(b, "2026-06-05T16:00:00+02:00")
	for b.Loop() {
		c.AddWorking(filed, 24*time.Hour)
	}
}

func BenchmarkWorkingBetweenWeek(b *testing.B) {
	c := parse(b, "holidays_ical: [holidays.ics]\n")
	from, to := ts(b, "2026-06-01T10:00:00+02:00"), ts(b, "2026-06-08T10:00:00+02:00")
	for b.Loop() {
		c.WorkingBetween(from, to)
	}
}

func BenchmarkWorkingBetweenYears(b *testing.B) {
	c := parse(b, "holidays_ical: [holidays.ics]\n")
	from, to := ts(b, "2026-06-01T10:00:00+02:00"), ts(b, "2036-06-08T10:00:00+02:00")
	for b.Loop() {
		c.WorkingBetween(from, to)
	}
}
