// Package svgchart draws small charts of daily figures as SVG, on the
// server: lines and bars over labelled axes, with the last, lowest and
// highest values written beside their points so that the chart reads
// without hovering, and an aria-label that says the same in words.
//
// The SVG carries classes, never inline styles (the console's
// Content-Security-Policy forbids them): its colours, dashes and type
// come from the page's stylesheet. Only geometry is in attributes.
package svgchart

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Series is one line, or one set of bars, of a chart.
type Series struct {
	Name string
	// Values has one value per label of the chart; NaN is a day without
	// a value (a rate with nothing to divide), where a line breaks.
	Values []float64
	Bars   bool // bars beside the other bar series of the chart; else a line
}

// Chart is what Render draws.
type Chart struct {
	Title  string   // what the chart shows, first words of the aria-label
	Labels []string // the x axis, one per value (days)
	Series []Series
	// Format writes a value beside its point; nil: as a plain number.
	Format func(float64) string
	// Tick writes a value on the y axis; nil: Format.
	Tick func(float64) string
	// Max is the top of the y axis (1 for a rate); 0: a round number
	// above the highest value.
	Max float64
	// Width and Height are the viewBox's; 0: 480 × 240. The SVG scales
	// to its box: a narrow viewBox keeps the text readable on a phone.
	Width, Height int
}

// box is the room a value's text takes, in the viewBox's units.
type box struct{ x0, y0, x1, y1 float64 }

// charWidth is the width of a character of the charts' text, generously:
// the stylesheet may make it larger on a phone.
const charWidth = 8.5

// The margins around the plot: the y axis's labels on the left, the last
// values on the right, the legend above and the x axis's labels below.
const (
	padLeft, padRight, padTop, padBottom = 52, 60, 40, 30
	maxXLabels                           = 5
)

// Render returns the chart as an <svg> element with role="img" and an
// aria-label summing it up.
func Render(c Chart) string {
	w, h := c.Width, c.Height
	if w == 0 {
		w = 480
	}
	if h == 0 {
		h = 240
	}
	format := c.Format
	if format == nil {
		format = func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	}
	tick := c.Tick
	if tick == nil {
		tick = format
	}
	top, step := scale(c)
	n := len(c.Labels)
	plotW, plotH := float64(w-padLeft-padRight), float64(h-padTop-padBottom)
	slot := plotW / float64(max(n, 1))
	x := func(i int) float64 { return float64(padLeft) + slot*(float64(i)+0.5) }
	y := func(v float64) float64 { return float64(padTop) + plotH*(1-v/top) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		w, h, html.EscapeString(Summary(c)))

	// The y axis: a grid line and a label per step.
	for v := 0.0; v <= top+step/2; v += step {
		fmt.Fprintf(&b, `<line class="chart__grid" x1="%d" x2="%d" y1="%s" y2="%s"/>`, padLeft, w-padRight, num(y(v)), num(y(v)))
		fmt.Fprintf(&b, `<text class="chart__tick chart__tick--y" x="%d" y="%s">%s</text>`, padLeft-6, num(y(v)+4), html.EscapeString(tick(v)))
	}
	// The x axis: at most maxXLabels labels, evenly spaced.
	every := (n + maxXLabels - 1) / maxXLabels
	fmt.Fprintf(&b, `<line class="chart__axis" x1="%d" x2="%d" y1="%d" y2="%d"/>`, padLeft, w-padRight, h-padBottom, h-padBottom)
	for i := 0; i < n; i += max(every, 1) {
		fmt.Fprintf(&b, `<text class="chart__tick chart__tick--x" x="%s" y="%d">%s</text>`, num(x(i)), h-padBottom+19, html.EscapeString(c.Labels[i]))
	}

	// The legend, above the plot: a swatch drawn as the series is, and
	// its name.
	lx := float64(padLeft)
	for k, s := range c.Series {
		fmt.Fprintf(&b, `<g class="chart__legend chart__series chart__series--%d">`, k+1)
		if s.Bars {
			fmt.Fprintf(&b, `<rect class="chart__bar" x="%s" y="8" width="12" height="12"/>`, num(lx))
		} else {
			fmt.Fprintf(&b, `<line class="chart__line" x1="%s" x2="%s" y1="14" y2="14"/>`, num(lx), num(lx+18))
		}
		fmt.Fprintf(&b, `<text class="chart__legend-text" x="%s" y="18">%s</text></g>`, num(lx+22), html.EscapeString(s.Name))
		lx += 22 + charWidth*float64(len([]rune(s.Name))) + 16
	}
	// Values are written only where they do not cover another value, the
	// legend or the x axis's labels; the table and the aria-label have
	// them all.
	taken := []box{{float64(padLeft), 0, lx, 22}, {0, float64(h - padBottom + 2), float64(w), float64(h)}}
	value := func(class string, x, y float64, anchor int, text string) {
		w := charWidth * float64(len([]rune(text)))
		r := box{x - w/2, y - 12, x + w/2, y + 2}
		if anchor > 0 {
			r.x0, r.x1 = x, x+w
		}
		for _, t := range taken {
			if r.x0 < t.x1 && t.x0 < r.x1 && r.y0 < t.y1 && t.y0 < r.y1 {
				return
			}
		}
		taken = append(taken, r)
		fmt.Fprintf(&b, `<text class="%s" x="%s" y="%s">%s</text>`, class, num(x), num(y), html.EscapeString(text))
	}

	var bars []int
	for k, s := range c.Series {
		if s.Bars {
			bars = append(bars, k)
		}
	}
	barW := slot * 0.8 / float64(max(len(bars), 1))
	empty := true
	for k, s := range c.Series {
		fmt.Fprintf(&b, `<g class="chart__series chart__series--%d">`, k+1)
		marks := marked(s.Values)
		if _, _, last := extremes(s.Values); last >= 0 {
			empty = false
		}
		if s.Bars {
			pos := 0
			for pos < len(bars) && bars[pos] != k {
				pos++
			}
			for i, v := range s.Values[:min(n, len(s.Values))] {
				if math.IsNaN(v) {
					continue
				}
				bx := float64(padLeft) + slot*float64(i) + slot*0.1 + barW*float64(pos)
				fmt.Fprintf(&b, `<rect class="chart__bar" x="%s" y="%s" width="%s" height="%s"/>`, num(bx), num(y(v)), num(barW), num(y(0)-y(v)))
				// The lowest bar is plain to see: only the highest and the
				// last are written.
				if marks[i] == "max" || marks[i] == "last" {
					value("chart__value", bx+barW/2, y(v)-4, 0, format(v))
				}
			}
		} else {
			var d strings.Builder
			pen := false
			for i, v := range s.Values[:min(n, len(s.Values))] {
				if math.IsNaN(v) {
					pen = false
					continue
				}
				if pen {
					d.WriteString(" L")
				} else {
					if d.Len() > 0 {
						d.WriteByte(' ')
					}
					d.WriteByte('M')
				}
				pen = true
				d.WriteString(num(x(i)) + " " + num(y(v)))
			}
			if d.Len() > 0 {
				fmt.Fprintf(&b, `<path class="chart__line" d="%s"/>`, d.String())
			}
			for i, v := range s.Values[:min(n, len(s.Values))] {
				if math.IsNaN(v) {
					continue
				}
				fmt.Fprintf(&b, `<circle class="chart__point" cx="%s" cy="%s" r="2.5"/>`, num(x(i)), num(y(v)))
				switch marks[i] {
				case "":
				case "last":
					value("chart__value chart__value--last", x(i)+6, y(v)+4, 1, format(v))
				case "min":
					if below := y(v) + 15; below <= float64(h-padBottom)-2 {
						value("chart__value", x(i), below, 0, format(v))
					} else {
						value("chart__value", x(i), y(v)-6, 0, format(v))
					}
				default:
					value("chart__value", x(i), y(v)-6, 0, format(v))
				}
			}
		}
		b.WriteString(`</g>`)
	}
	if empty {
		fmt.Fprintf(&b, `<text class="chart__empty" x="%s" y="%s">No values for these days</text>`, num(float64(padLeft)+plotW/2), num(float64(padTop)+plotH/2))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// Summary is the chart in words, as its aria-label has it: per series
// the last value and the lowest and highest, each with its label.
func Summary(c Chart) string {
	format := c.Format
	if format == nil {
		format = func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	}
	var parts []string
	for _, s := range c.Series {
		lo, hi, last := extremes(s.Values)
		if last < 0 || last >= len(c.Labels) {
			parts = append(parts, s.Name+": no values")
			continue
		}
		at := func(i int) string { return format(s.Values[i]) + " (" + c.Labels[i] + ")" }
		parts = append(parts, fmt.Sprintf("%s: last %s, lowest %s, highest %s", s.Name, at(last), at(lo), at(hi)))
	}
	head := c.Title
	if len(c.Labels) > 0 {
		head += ", " + c.Labels[0] + " to " + c.Labels[len(c.Labels)-1]
	}
	if len(parts) == 0 {
		return head
	}
	return head + ". " + strings.Join(parts, "; ") + "."
}

// extremes are the indexes of the lowest, highest (first of equals) and
// last values that are not NaN; -1 when there are none.
func extremes(vs []float64) (lo, hi, last int) {
	lo, hi, last = -1, -1, -1
	for i, v := range vs {
		if math.IsNaN(v) {
			continue
		}
		if lo < 0 || v < vs[lo] {
			lo = i
		}
		if hi < 0 || v > vs[hi] {
			hi = i
		}
		last = i
	}
	return lo, hi, last
}

// marked says which values get their number written beside them: the
// last, the highest and the lowest (a flat series only its last).
func marked(vs []float64) []string {
	m := make([]string, len(vs))
	lo, hi, last := extremes(vs)
	if last < 0 {
		return m
	}
	if vs[lo] != vs[hi] {
		m[lo], m[hi] = "min", "max"
	}
	m[last] = "last"
	return m
}

// scale is the top of the y axis and the step between its grid lines.
func scale(c Chart) (top, step float64) {
	top = c.Max
	whole := true
	if top <= 0 {
		for _, s := range c.Series {
			for _, v := range s.Values {
				if !math.IsNaN(v) {
					top = math.Max(top, v)
					whole = whole && v == math.Trunc(v)
				}
			}
		}
	}
	if top <= 0 {
		top = 1
	}
	step = niceStep(top/4, whole && c.Max <= 0)
	return math.Ceil(top/step-1e-9) * step, step
}

// niceStep rounds raw up to 1, 2, 2.5 or 5 times a power of ten; whole
// keeps it a whole number (counts).
func niceStep(raw float64, whole bool) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		s := f * mag
		if s >= raw-1e-12 && (!whole || s == math.Trunc(s)) {
			return s
		}
	}
	return 10 * mag
}

// num writes a coordinate with at most one decimal.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}
