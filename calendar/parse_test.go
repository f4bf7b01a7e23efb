package calendar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleFile(t *testing.T) {
	c, err := Load("testdata/calendar.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Describe(), "Europe/Prague; Mon Tue Wed Thu Fri 09:00–17:00; "; !strings.HasPrefix(got, want) {
		t.Errorf("Describe = %q", got)
	}
	if c.Target("basic") != WithinWorkingHours(24*time.Hour) || c.Target("priority") != ByEndOfWorkingDay(1) || c.Target("individual").Fixed {
		t.Errorf("targets = %v", c.Targets())
	}
	want := []Holiday{
		{ts(t, "2026-12-24T00:00:00+01:00"), "Christmas Eve"}, // the YAML name wins over the .ics
		{ts(t, "2026-12-25T00:00:00+01:00"), "Christmas Day"},
		{ts(t, "2026-12-31T00:00:00+01:00"), "Public holiday"},
		{ts(t, "2027-01-01T00:00:00+01:00"), "New Year's Day"},
	}
	got := c.Holidays(ts(t, "2026-12-20T12:00:00+01:00"), ts(t, "2027-01-01T12:00:00+01:00"))
	if len(got) != len(want) {
		t.Fatalf("Holidays = %v; want %v", got, want)
	}
	for i := range want {
		if !got[i].Date.Equal(want[i].Date) || got[i].Name != want[i].Name || got[i].Date.Location() != c.Location() {
			t.Errorf("Holidays[%d] = %v; want %v", i, got[i], want[i])
		}
	}
}

func TestICalHolidays(t *testing.T) {
	c := parse(t, "holidays_ical: [holidays.ics]\n")
	for day, want := range map[string]string{
		"2026-01-01": "New Year's Day",
		"2027-01-01": "New Year's Day",
		"2028-01-01": "New Year's Day",
		"2099-01-01": "New Year's Day",
		"2030-01-01": "", // EXDATE
		"2100-01-01": "", // beyond the expansion
		"2025-01-01": "", // before DTSTART
		"2028-01-02": "",
		"2026-05-08": "Liberation Day", // single event without DTEND: one day
		"2026-05-09": "",
		"2026-12-23": "",
		"2026-12-24": "Christmas Days", // two-day event
		"2026-12-25": "Christmas Days",
		"2026-12-26": "", // DTEND is exclusive
		"2027-12-24": "", // not recurring
		"2026-12-18": "", // timed event: not a holiday
	} {
		name, ok := c.Holiday(ts(t, day+"T12:00:00Z"))
		if name != want || ok != (want != "") {
			t.Errorf("Holiday(%s) = %q, %v; want %q", day, name, ok, want)
		}
	}
	if c.IsWorkingDay(ts(t, "2027-01-01T10:00:00+01:00")) || !c.IsWorkingDay(ts(t, "2026-12-18T10:00:00+01:00")) {
		t.Error("IsWorkingDay disagrees with the .ics")
	}
	// 2027-01-01 is a Friday: basic filed Thu 31 Dec 16:00 skips it.
	got, _ := c.Due(c.Target("basic"), ts(t, "2026-12-31T16:00:00+01:00"))
	if want := ts(t, "2027-01-06T16:00:00+01:00"); !got.Equal(want) {
		t.Errorf("Due over New Year = %s; want %s", got, want)
	}
}

func TestLoadMissingIsDefault(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "calendar.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Describe() != Default().Describe() {
		t.Errorf("missing file gave %s", c.Describe())
	}
}

func TestParseDefaults(t *testing.T) {
	for _, yml := range []string{"", "# only a comment\n", "~\n", "time_zone:\nholidays:\n"} {
		c, err := Parse([]byte(yml), "calendar.yaml", ".")
		if err != nil {
			t.Errorf("%q: %v", yml, err)
			continue
		}
		if c.Describe() != Default().Describe() {
			t.Errorf("%q gave %s", yml, c.Describe())
		}
	}
}

func TestParseSettings(t *testing.T) {
	c := parse(t, `
time_zone: America/New_York
working_days: [MON, Tuesday, wed]
working_hours: {start: "8:30", end: "24:00"}
targets:
  basic: {working_hours: 4.5}
  individual: {end_of_working_day: 0}
  priority:
`)
	if got, want := c.Describe(), "America/New_York; Mon Tue Wed 08:30–24:00; 0 holidays; basic: within 4.5 working hours; individual: by the end of the working day; priority: as agreed"; got != want {
		t.Errorf("Describe =\n %s\nwant\n %s", got, want)
	}
	if start, end := c.WorkingHours(); start != "08:30" || end != "24:00" {
		t.Errorf("WorkingHours = %s, %s", start, end)
	}
	if got := c.WorkingDays(); len(got) != 3 || got[0] != time.Monday || got[2] != time.Wednesday {
		t.Errorf("WorkingDays = %v", got)
	}
	// Targets not listed keep the policy default.
	c = parse(t, "targets: {basic: {working_hours: 8}}\n")
	if c.Target("priority") != ByEndOfWorkingDay(1) || c.Target("basic") != WithinWorkingHours(8*time.Hour) {
		t.Errorf("targets = %v", c.Targets())
	}
}

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.ics")
	if err := os.WriteFile(bad, []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VCALENDAR\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	weird := filepath.Join(dir, "weird.ics")
	if err := os.WriteFile(weird, []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Every day\r\nDTSTART;VALUE=DATE:20260101\r\nRRULE:FREQ=YEARLY;BYMONTH=13\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ yml, want string }{
		{"working_hours:\n  start: 9am\n", `calendar.yaml:2: working_hours.start: "9am" is not HH:MM`},
		{"working_hours: {start: \"17:00\", end: \"09:00\"}\n", "calendar.yaml:1: working_hours: start 17:00 is not before end 09:00"},
		{"working_hours: {start: \"24:00\"}\n", "calendar.yaml:1: working_hours.start: 24:00 is allowed only as the end"},
		{"working_hours: {end: \"17:60\"}\n", `calendar.yaml:1: working_hours.end: "17:60" is not HH:MM`},
		{"working_hours: {begin: \"08:00\"}\n", "calendar.yaml:1: working_hours.begin: unknown key (want start or end)"},
		{"working_hours: 9-17\n", `calendar.yaml:1: working_hours: want {start: "09:00", end: "17:00"}, got "9-17"`},
		{"# x\nworkin_days: [mon]\n", "calendar.yaml:2: workin_days: unknown key (want time_zone, working_days, working_hours, holidays, holidays_ical or targets)"},
		{"time_zone: Europe/Praha\n", `calendar.yaml:1: time_zone: unknown time zone "Europe/Praha" (want an IANA name such as Europe/Prague)`},
		{"time_zone: Local\n", `calendar.yaml:1: time_zone: "Local" is not an IANA zone name such as Europe/Prague`},
		{"time_zone: UTC\ntime_zone: UTC\n", "calendar.yaml:2: time_zone: already set on line 1"},
		{"working_days: []\n", "calendar.yaml:1: working_days: needs at least one working day"},
		{"working_days: [mon, fryday]\n", `calendar.yaml:1: working_days: "fryday" is not a weekday (mon … sun or monday … sunday)`},
		{"working_days: [mon, Monday]\n", `calendar.yaml:1: working_days: "Monday" is listed twice`},
		{"working_days: mon\n", `calendar.yaml:1: working_days: want a list such as [mon, tue, wed, thu, fri], got "mon"`},
		{"holidays:\n  - 2026-12-25\n  - 2026-13-01\n", `calendar.yaml:3: holidays.date: "2026-13-01" is not a date (YYYY-MM-DD)`},
		{"holidays:\n  - 2026-12-25\n  - {date: 2026-12-25, name: X}\n", "calendar.yaml:3: holidays.date: 2026-12-25 is already listed on line 2"},
		{"holidays:\n  - {name: X}\n", "calendar.yaml:2: holidays: entry has no date"},
		{"holidays:\n  - {date: 2026-12-25, nmae: X}\n", "calendar.yaml:2: holidays.nmae: unknown key (want date or name)"},
		{"holidays:\n  - 25.12.2026\n", `calendar.yaml:2: holidays.date: "25.12.2026" is not a date (YYYY-MM-DD)`},
		{"targets:\n  prority: {end_of_working_day: 1}\n", "calendar.yaml:2: targets.prority: unknown key (want basic, priority or individual)"},
		{"targets:\n  basic: {working_hours: 0}\n", "calendar.yaml:2: targets.basic.working_hours: 0 is not between 0 (exclusive) and 10000 hours"},
		{"targets:\n  basic: {working_hours: 24h}\n", `calendar.yaml:2: targets.basic.working_hours: "24h" is not a number of hours`},
		{"targets:\n  basic: {working_hours: 24, end_of_working_day: 1}\n", "calendar.yaml:2: targets.basic: give either working_hours or end_of_working_day, not both"},
		{"targets:\n  priority: {end_of_working_day: -1}\n", `calendar.yaml:2: targets.priority.end_of_working_day: "-1" is not a whole number of working days from 0 to 365`},
		{"targets:\n  priority: {end_of_working_day: 1.5}\n", `calendar.yaml:2: targets.priority.end_of_working_day: "1.5" is not a whole number of working days from 0 to 365`},
		{"targets:\n  priority: 1\n", `calendar.yaml:2: targets.priority: want {working_hours: N}, {end_of_working_day: N} or {}, got "1"`},
		{"targets:\n  basic: {hours: 24}\n", "calendar.yaml:2: targets.basic.hours: unknown key (want working_hours or end_of_working_day)"},
		{"- mon\n", "calendar.yaml:1: calendar: want a mapping of settings (time_zone, working_days, ...), got a list"},
		{"working_days: [mon\n", "calendar.yaml: yaml: line 1: did not find expected ',' or ']'"},
		{"\n\nholidays_ical: [missing.ics]\n", "calendar.yaml:3: holidays_ical: open " + filepath.Join(dir, "missing.ics") + ": no such file or directory"},
		{"holidays_ical: [bad.ics]\n", "calendar.yaml:1: holidays_ical: " + bad + ": "},
		{"holidays_ical: [weird.ics]\n", "calendar.yaml:1: holidays_ical: " + weird + `: event "Every day": `},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.yml), "calendar.yaml", dir)
		if err == nil {
			t.Errorf("%q: no error; want %s", tt.yml, tt.want)
			continue
		}
		if got := err.Error(); got != tt.want && !(strings.HasSuffix(tt.want, ": ") && strings.HasPrefix(got, tt.want)) {
			t.Errorf("%q:\n got  %s\n want %s", tt.yml, got, tt.want)
		}
	}
}
