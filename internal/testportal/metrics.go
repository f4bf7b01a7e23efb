package testportal

import (
	"fmt"
	"io"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape is a /metrics answer, parsed.
type Scrape map[string]*dto.MetricFamily

// ParseMetrics parses Prometheus' text format (as /metrics serves it).
func ParseMetrics(t testing.TB, body io.Reader) Scrape {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(body)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return fams
}

// Value is the value of the series of name whose labels include labels
// (name, value pairs): a counter's or gauge's value, a histogram's count of
// observations. ok is false when no series matches.
func (s Scrape) Value(name string, labels ...string) (v float64, ok bool) {
	fam := s[name]
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// LabelValues lists the values label takes in name's series.
func (s Scrape) LabelValues(name, label string) []string {
	var out []string
	for _, m := range s[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				out = append(out, l.GetValue())
			}
		}
	}
	return out
}

// Want fails the test unless name{labels} has value want.
func (s Scrape) Want(t testing.TB, want float64, name string, labels ...string) {
	t.Helper()
	got, ok := s.Value(name, labels...)
	switch {
	case !ok:
		t.Errorf("no series %s%s", name, fmtLabels(labels))
	case got != want:
		t.Errorf("%s%s = %v, want %v", name, fmtLabels(labels), got, want)
	}
}

func hasLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func fmtLabels(labels []string) string {
	if len(labels) == 0 {
		return ""
	}
	out := "{"
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprintf("%s=%q", labels[i], labels[i+1])
	}
	return out + "}"
}
