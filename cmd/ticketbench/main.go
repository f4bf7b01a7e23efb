// Command ticketbench measures the portal's ticket paths under load. It has
// three modes, each against a running portal started with --rate-limits off
// (all its clients are one address, which the per-client limits would
// hold to a trickle):
//
//	ticketbench suggest  N customers typing drafts over /api/deflect/ws, one
//	                     draft per keystroke; suggestion latency and CPU
//	ticketbench file     C clients filing tickets (POST /api/tickets) as fast
//	                     as answered; tickets/s, latency, and a count check
//	                     of the acknowledged tickets against the database
//	ticketbench watch    W live-feed watchers of one ticket whose status is
//	                     changed K times from another process; delivery
//	                     latency and the portal's memory per connection
//	ticketbench upload   C filings at once, each with A attachments of S
//	                     bytes; the portal's peak memory (VmHWM) before and
//	                     after, and the answers (201, or 503 when the upload
//	                     budget is spent)
//
// Like cmd/loadgen it shares the 2 cores with the portal, so it keeps its own
// work small (filings go over a minimal HTTP/1.1 client of its own) and it
// reports its own CPU use beside the portal's, so that a missed target can
// be told apart from a client that starved the server.
//
//	go run ./cmd/ticketbench suggest -addr 127.0.0.1:8080 -content /tmp/tldr10k -pid PID
//	go run ./cmd/ticketbench file -addr 127.0.0.1:8080 -data /tmp/pd -content /tmp/tldr10k -pid PID
//	go run ./cmd/ticketbench watch -addr 127.0.0.1:8080 -data /tmp/pd -w 10000 -pid PID
//	go run ./cmd/ticketbench upload -addr 127.0.0.1:8080 -c 6 -pid PID
package main

import (
	"fmt"
	"os"
)

const usage = `usage: ticketbench suggest|file|watch|upload [flags]   (ticketbench MODE -h lists a mode's flags)`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "suggest":
		err = runSuggest(os.Args[2:])
	case "file":
		err = runFile(os.Args[2:])
	case "watch":
		err = runWatch(os.Args[2:])
	case "upload":
		err = runUpload(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ticketbench "+os.Args[1]+":", err)
		os.Exit(1)
	}
}
