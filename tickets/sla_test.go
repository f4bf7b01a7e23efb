package tickets

import (
	"context"
	"testing"
	"time"
)

func TestSLADue(t *testing.T) {
	cal, err := DefaultCalendar()
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return prague(t, 2026, time.March, d, h, m) }
	// March 2026: Mon 2, ..., Fri 6, Sat 7, Sun 8, Mon 9, Tue 10, Wed 11.
	// Daylight saving time starts on Sunday, March 29.
	tests := []struct {
		name  string
		plan  Plan
		filed time.Time
		want  time.Time
	}{
		// Basic: 24 working hours = three 8-hour working days.
		{"basic Friday 16:00", PlanBasic, at(6, 16, 0), at(11, 16, 0)}, // 1 h Fri + 8 Mon + 8 Tue + 7 Wed
		{"basic Saturday", PlanBasic, at(7, 11, 30), at(11, 17, 0)},    // clock starts Monday 09:00
		{"basic Monday before opening", PlanBasic, at(2, 7, 15), at(4, 17, 0)},
		{"basic Monday at opening", PlanBasic, at(2, 9, 0), at(4, 17, 0)},
		{"basic Monday after closing", PlanBasic, at(2, 17, 30), at(5, 17, 0)},
		{"basic Wednesday 10:20", PlanBasic, at(4, 10, 20), at(9, 10, 20)},
		{"basic across daylight saving", PlanBasic, at(27, 16, 0), prague(t, 2026, time.April, 1, 16, 0)},
		// Priority: 17:00 of the working day after the filing day.
		{"priority Friday", PlanPriority, at(6, 10, 0), at(9, 17, 0)},
		{"priority Saturday", PlanPriority, at(7, 10, 0), at(9, 17, 0)},
		{"priority Monday evening", PlanPriority, at(2, 20, 0), at(3, 17, 0)},
		{"priority Monday early", PlanPriority, at(2, 6, 0), at(3, 17, 0)},
		{"priority Thursday", PlanPriority, at(5, 16, 59), at(6, 17, 0)},
	}
	for _, tt := range tests {
		got, ok := cal.Due(tt.plan, tt.filed)
		if !ok || !got.Equal(tt.want) {
			t.Errorf("%s: due %v, want %v", tt.name, got.In(cal.Location), tt.want)
		}
	}
	if got, ok := cal.Due(PlanIndividual, at(6, 10, 0)); ok || !got.IsZero() {
		t.Errorf("individual: %v, %v; want no target", got, ok)
	}
}

func TestFiledTicketGetsItsSLA(t *testing.T) {
	e := newEnv(t, nil)
	e.clock.Set(prague(t, 2026, time.March, 6, 16, 0)) // Friday
	nt := validTicket()
	nt.Severity = 2
	tk, _, err := e.File(context.Background(), nt)
	if err != nil {
		t.Fatal(err)
	}
	want := prague(t, 2026, time.March, 11, 16, 0)
	if !tk.SLADue.Equal(want) || !tk.CallRequired {
		t.Errorf("SLADue %v, call %v; want %v, true", tk.SLADue, tk.CallRequired, want)
	}
	got, err := e.GetByNumber(context.Background(), tk.Number)
	if err != nil || !got.SLADue.Equal(want) || !got.History[0].SLADue.Equal(want) {
		t.Errorf("read back: due %v, history %+v, %v", got.SLADue, got.History, err)
	}
}
