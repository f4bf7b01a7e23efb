#!/bin/sh
# Search over HTTP without the result cache, the portal next to the SQLite
# FTS5 peer in the same run: the portal (PORTAL_SEARCH_CACHE=0) and
# cmd/fts5serve serve the same content tree; cmd/loadgen sends the same
# questions to each, open loop, at each rate for DURATION, alternating
# portal and peer, and one table is printed. Everything runs on this
# machine (the load generator shares its cores), so run it on a quiet one.
#
#   bench/search-load.sh        # from the repository's root
#
# Settings (environment): CONTENT (default /tmp/tldr/docs/en, unpacked from
# ../shared/bench/tldr-corpus.tar.gz if missing), QUERIES (default
# ../shared/bench/covidfaq/queries.tsv), RATES (default "500 1000 2000"),
# DURATION (default 10s), CLIENTS (default 100), GZIP (default 1: ask for
# gzip and check the answers are), PORT (default 18080; the peer on PORT+10).
set -eu
cd "$(dirname "$0")/.."
CONTENT=${CONTENT:-/tmp/tldr/docs/en}
QUERIES=${QUERIES:-../shared/bench/covidfaq/queries.tsv}
RATES=${RATES:-500 1000 2000}
DURATION=${DURATION:-10s}
CLIENTS=${CLIENTS:-100}
GZIP=${GZIP:-1}
PORT=${PORT:-18080}
PEER_PORT=$((PORT + 10))

if [ ! -d "$CONTENT" ] && [ "$CONTENT" = /tmp/tldr/docs/en ]; then
	mkdir -p /tmp/tldr
	tar xzf ../shared/bench/tldr-corpus.tar.gz -C /tmp/tldr
fi
[ -d "$CONTENT" ] || { echo "search-load: no content tree $CONTENT" >&2; exit 1; }

work=$(mktemp -d)
portal_pid= peer_pid=
cleanup() {
	for pid in $portal_pid $peer_pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

go build -o "$work/bin/" ./cmd/portal ./cmd/loadgen
go build -tags sqlite_fts5 -o "$work/bin/" ./cmd/fts5serve

# Otherwise as shipped (request logs on, to a file; searches recorded as
# events): the cost of answering a customer's search.
PORTAL_SEARCH_CACHE=0 "$work/bin/portal" serve --addr "127.0.0.1:$PORT" --content "$CONTENT" \
	--data "$work/data" >"$work/portal.log" 2>&1 &
portal_pid=$!
"$work/bin/fts5serve" -content "$CONTENT" -addr "127.0.0.1:$PEER_PORT" >"$work/peer.log" 2>&1 &
peer_pid=$!

# Ready when each answers a search (the portal first builds its index).
ready() {
	i=0
	until curl -sf -o /dev/null "$1/api/search?q=ready"; do
		i=$((i + 1))
		if [ $i -gt 600 ]; then
			echo "search-load: $1 did not start; its log:" >&2
			cat "$2" >&2
			exit 1
		fi
		sleep 0.5
	done
}
ready "http://127.0.0.1:$PORT" "$work/portal.log"
ready "http://127.0.0.1:$PEER_PORT" "$work/peer.log"

gz=
[ "$GZIP" = 1 ] && gz=-gzip
echo "content $CONTENT, queries $QUERIES, $DURATION per run, $CLIENTS connections, gzip $GZIP, open loop, cache off"
echo
echo "| engine | offered req/s | achieved req/s | ok | errors + unsent | p50 ms | p90 ms | p99 ms | max ms |"
echo "|---|---|---|---|---|---|---|---|---|"
for rate in $RATES; do
	for engine in portal fts5; do
		url=http://127.0.0.1:$PORT
		label="portal (Bleve)"
		if [ $engine = fts5 ]; then
			url=http://127.0.0.1:$PEER_PORT
			label="SQLite FTS5 (net/http)"
		fi
		"$work/bin/loadgen" -url "$url" -queries "$QUERIES" -rate "$rate" -d "$DURATION" -c "$CLIENTS" $gz \
			-row -label "$label"
	done
done
