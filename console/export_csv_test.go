package console

import (
	"encoding/csv"
	"strings"
	"testing"
)

// A table's CSV: the header, then the cells' text (not their links),
// quoted where RFC 4180 needs it, with CRLF; text a spreadsheet would run
// as a formula starts with ' and numbers stay numbers.
func TestTableCSV(t *testing.T) {
	tb := &table{Head: []column{{Label: "Query"}, {Label: "Times", Numeric: true}, {Label: "As typed"}, {Label: "Tickets"}},
		Rows: [][]cell{
			{{Text: "=1+2"}, {Text: "3"}, {Text: `“say "hi", then`}, {Text: "#4 #5", Links: []link{{Text: "#4", Href: "/agent/tickets/4"}, {Text: "#5", Href: "/agent/tickets/5"}}}},
			{{Text: "+cmd"}, {Text: "-2"}, {Text: "@SUM(A1)"}, {Text: "-x"}},
			{{Text: "\tTAB"}, {Text: "12.5%"}, {Text: "line\nbreak"}, {Text: "+Inf"}},
		}}
	b, err := tableCSV(tb)
	if err != nil {
		t.Fatal(err)
	}
	want := "Query,Times,As typed,Tickets\r\n" +
		"'=1+2,3,\"“say \"\"hi\"\", then\",#4 #5\r\n" +
		"'+cmd,-2,'@SUM(A1),'-x\r\n" +
		"'\tTAB,12.5%,\"line\r\nbreak\",'+Inf\r\n"
	if string(b) != want {
		t.Errorf("CSV\n%q, want\n%q", b, want)
	}
	recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil || len(recs) != 4 || recs[1][2] != `“say "hi", then` {
		t.Errorf("read back: %q, %v", recs, err)
	}
}
