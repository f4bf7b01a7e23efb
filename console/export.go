package console

import (
	"bytes"
	"encoding/csv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// export is GET /operator/export/NAME.csv: a table of the dashboard, for
// the period (and the articles' order) of the query, as CSV.
func (h *handler) export(c *fiber.Ctx) error {
	name, ok := strings.CutSuffix(c.Params("file"), ".csv")
	if !ok || h.insights == nil {
		return fiber.ErrNotFound
	}
	p, pv := readPeriod(c, time.Now())
	for _, field := range []string{"period", "from", "to"} {
		if msg := pv.Errors[field]; msg != "" {
			return fiber.NewError(fiber.StatusUnprocessableEntity, msg)
		}
	}
	sortBy, dir := readSort(c.Query("sort"), c.Query("dir"))
	d, err := h.dashboardFor(c.UserContext(), p, pv, sortBy, dir)
	if err != nil {
		return err
	}
	t := d.Tables[name]
	if t == nil {
		return fiber.ErrNotFound
	}
	body, err := tableCSV(t)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+"-"+pv.From+"-to-"+pv.To+`.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(body)
}

// tableCSV is t as CSV (RFC 4180: quoted where needed, CRLF), its header
// first.
func tableCSV(t *table) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	rec := make([]string, len(t.Head))
	for i, col := range t.Head {
		rec[i] = safeCell(col.Label)
	}
	if err := w.Write(rec); err != nil {
		return nil, err
	}
	for _, row := range t.Rows {
		rec = rec[:0]
		for _, cl := range row {
			rec = append(rec, safeCell(cl.Text))
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// safeCell keeps a spreadsheet from reading customer text (a search, a
// draft's words) as a formula: a cell starting with = + - @ (or a tab or
// carriage return, which some read past) gets a leading '. Numbers stay
// as they are: "-3" is no formula.
func safeCell(s string) string {
	if s == "" {
		return s
	}
	if plainNumber(s) {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// plainNumber says whether s is digits with an optional minus sign and
// decimal point: what a spreadsheet reads as a number, never a formula
// (strconv.ParseFloat would also take "+Inf").
func plainNumber(s string) bool {
	digits, point := 0, false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '-' && i == 0:
		case r == '.' && !point && digits > 0:
			point = true
		default:
			return false
		}
	}
	return digits > 0 && s[len(s)-1] != '.'
}
