package svgchart_test

import (
	"encoding/xml"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/orbitask/portal/svgchart"
)

// node is an SVG element as encoding/xml reads it: enough to count
// elements, read their attributes and text.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []node     `xml:",any"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all lists the elements under n (n included) named name whose class
// attribute contains class.
func (n node) all(name, class string) []node {
	var out []node
	if n.XMLName.Local == name && strings.Contains(" "+n.attr("class")+" ", " "+class+" ") {
		out = append(out, n)
	}
	for _, c := range n.Nodes {
		out = append(out, c.all(name, class)...)
	}
	return out
}

func texts(ns []node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Text
	}
	return out
}

// parse checks that svg is well-formed XML without inline styles and
// returns its root.
func parse(t *testing.T, svg string) node {
	t.Helper()
	var root node
	if err := xml.Unmarshal([]byte(svg), &root); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, svg)
	}
	if strings.Contains(svg, "style=") {
		t.Errorf("inline style in %s", svg)
	}
	if root.XMLName.Local != "svg" || root.attr("role") != "img" || root.attr("aria-label") == "" {
		t.Errorf("root %s role %q aria-label %q", root.XMLName.Local, root.attr("role"), root.attr("aria-label"))
	}
	return root
}

func days(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%d Nov", i+1)
	}
	return out
}

func percent(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }

func TestLine(t *testing.T) {
	nan := math.NaN()
	c := svgchart.Chart{Title: "Deflection rate", Labels: days(6), Max: 1, Format: percent,
		Series: []svgchart.Series{{Name: "Deflection rate", Values: []float64{0.5, 0.25, nan, 0.75, 0.6, 0.4}}}}
	root := parse(t, svgchart.Render(c))

	if n := len(root.all("text", "chart__empty")); n != 0 {
		t.Error("a chart with values says it has none")
	}
	if n := len(root.all("circle", "chart__point")); n != 5 {
		t.Errorf("%d points, want 5 (one day has no value)", n)
	}
	paths := root.all("path", "chart__line")
	if len(paths) != 1 || strings.Count(paths[0].attr("d"), "M") != 2 {
		t.Errorf("paths %v: want one path of two pieces (the line breaks on the day without a value)", paths)
	}
	if got, want := texts(root.all("text", "chart__tick--y")), []string{"0%", "25%", "50%", "75%", "100%"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("y ticks %q, want %q", got, want)
	}
	if got := texts(root.all("text", "chart__tick--x")); strings.Join(got, " ") != "1 Nov 3 Nov 5 Nov" {
		t.Errorf("x ticks %q", got)
	}
	// The lowest, the highest and the last are written out.
	if got := texts(root.all("text", "chart__value")); strings.Join(got, " ") != "25% 75% 40%" {
		t.Errorf("values written %q, want 25%% 75%% 40%%", got)
	}
	want := "Deflection rate, 1 Nov to 6 Nov. Deflection rate: last 40% (6 Nov), lowest 25% (2 Nov), highest 75% (4 Nov)."
	if got := root.attr("aria-label"); got != want {
		t.Errorf("aria-label\n%q, want\n%q", got, want)
	}
}

func TestBars(t *testing.T) {
	c := svgchart.Chart{Title: "Drafts and tickets", Labels: days(30), Series: []svgchart.Series{
		{Name: "Drafts", Bars: true, Values: make([]float64, 30)},
		{Name: "Filed", Bars: true, Values: make([]float64, 30)},
	}}
	for i := range 30 {
		c.Series[0].Values[i] = float64(i % 8)
		c.Series[1].Values[i] = float64(i % 3)
	}
	root := parse(t, svgchart.Render(c))
	for k, want := range []int{30, 30} {
		g := root.all("g", fmt.Sprintf("chart__series--%d", k+1))
		if len(g) != 2 { // the legend's and the data's
			t.Fatalf("series %d: %d groups", k+1, len(g))
		}
		if n := len(g[1].all("rect", "chart__bar")); n != want {
			t.Errorf("series %d: %d bars, want %d", k+1, n, want)
		}
	}
	// Counts get whole ticks: 0, 2, 4, 6, 8 for a highest value of 7.
	if got := texts(root.all("text", "chart__tick--y")); strings.Join(got, " ") != "0 2 4 6 8" {
		t.Errorf("y ticks %q", got)
	}
	// 30 days: at most 5 labels on the x axis.
	if n := len(root.all("text", "chart__tick--x")); n != 5 {
		t.Errorf("%d x labels", n)
	}
	// Bars that reach the top stay within the plot.
	for _, r := range root.all("rect", "chart__bar") {
		var y, h float64
		fmt.Sscan(r.attr("y"), &y)
		fmt.Sscan(r.attr("height"), &h)
		if y < 0 || h < 0 || y+h > 240 {
			t.Errorf("bar outside the chart: y %v height %v", y, h)
		}
	}
}

// Names and labels are text, never markup.
func TestEscapes(t *testing.T) {
	c := svgchart.Chart{Title: `Tom & "Jerry" <script>`, Labels: []string{"<b>1</b>", "a&b"},
		Series: []svgchart.Series{{Name: `<img src=x onerror=alert(1)>`, Values: []float64{1, 2}}}}
	svg := svgchart.Render(c)
	root := parse(t, svg)
	for _, bad := range []string{"<script", "<img", "<b>"} {
		if strings.Contains(svg, bad) {
			t.Errorf("%q in the SVG unescaped", bad)
		}
	}
	if got := texts(root.all("text", "chart__legend-text")); len(got) != 1 || got[0] != `<img src=x onerror=alert(1)>` {
		t.Errorf("legend %q", got)
	}
	if got := root.attr("aria-label"); !strings.HasPrefix(got, `Tom & "Jerry" <script>, <b>1</b> to a&b.`) {
		t.Errorf("aria-label %q", got)
	}
}

// A chart without values still draws its axes and says so.
func TestEmpty(t *testing.T) {
	nan := math.NaN()
	c := svgchart.Chart{Title: "Click-through", Labels: days(3), Max: 1, Format: percent,
		Series: []svgchart.Series{{Name: "Click-through", Values: []float64{nan, nan, nan}}}}
	root := parse(t, svgchart.Render(c))
	if n := len(root.all("circle", "chart__point")) + len(root.all("path", "chart__line")); n != 0 {
		t.Errorf("%d marks on a chart without values", n)
	}
	if got := texts(root.all("text", "chart__empty")); len(got) != 1 {
		t.Errorf("no word that the chart is empty: %q", got)
	}
	if got := root.attr("aria-label"); !strings.Contains(got, "Click-through: no values") {
		t.Errorf("aria-label %q", got)
	}
}

// Values that would cover one another are written once: two series with
// the same values get the first's labels only.
func TestValuesDoNotOverlap(t *testing.T) {
	c := svgchart.Chart{Title: "Solved and filed", Labels: days(3), Series: []svgchart.Series{
		{Name: "Solved", Values: []float64{1, 3, 2}},
		{Name: "Filed", Values: []float64{1, 3, 2}},
	}}
	root := parse(t, svgchart.Render(c))
	g := root.all("g", "chart__series--2")
	if n := len(g[len(g)-1].all("text", "chart__value")); n != 0 {
		t.Errorf("the second series writes %d values over the first's", n)
	}
	if got := texts(root.all("text", "chart__value")); strings.Join(got, " ") != "1 3 2" {
		t.Errorf("values written %q, want 1 3 2", got)
	}
}
