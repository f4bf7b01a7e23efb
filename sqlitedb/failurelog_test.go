package sqlitedb

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// A writer failing again and again logs one line, and one when it works
// again; a new run of failures after that is logged at once.
func TestFailureLogLogsARunOnce(t *testing.T) {
	var buf bytes.Buffer
	f := FailureLog{Log: slog.New(slog.NewTextHandler(&buf, nil)), What: "deflect: writing search intents"}
	full := errors.New("database or disk is full")
	for range 100 {
		f.Note(full, 3)
	}
	f.Note(nil, 3)
	f.Note(nil, 3)
	f.Note(full, 1)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 ||
		!strings.Contains(lines[0], `level=ERROR msg="deflect: writing search intents" err="database or disk is full" count=3 failed_writes=1 lost=3`) ||
		!strings.Contains(lines[1], `level=INFO msg="deflect: writing search intents works again" failed_writes=100 lost=300`) ||
		!strings.Contains(lines[2], `level=ERROR`) {
		t.Errorf("logged:\n%s", buf.String())
	}
}
