// Command fts5serve answers GET /api/search?q=&lang=&limit= from the SQLite
// FTS5 peer (internal/fts5peer) over the articles of a content tree, so
// that cmd/loadgen can put the peer under the same load as the portal, over
// HTTP, in the same run (bench/search-load.sh). It is what a small helpdesk
// built on SQLite full-text search and net/http would serve: JSON hits with
// a snippet each, gzip when the client accepts it (at the fastest level,
// from 1 KiB, as the portal). Build it with the sqlite_fts5 tag:
//
//	go run -tags sqlite_fts5 ./cmd/fts5serve -content /tmp/tldr/docs/en -addr 127.0.0.1:8090
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/orbitask/portal/internal/fts5peer"
	"github.com/orbitask/portal/kb"
)

// minCompressed is the smallest answer compressed, as the portal's
// httpkit.MinCompressSize.
const minCompressed = 1024

func main() {
	content := flag.String("content", "", "content tree to index")
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	flag.Parse()
	if *content == "" {
		fmt.Fprintln(os.Stderr, "usage: fts5serve -content DIR [-addr HOST:PORT]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *content, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "fts5serve:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, content, addr string) error {
	k, err := kb.Load(content)
	if err != nil {
		return err
	}
	peer, err := fts5peer.Open(k.Articles)
	if err != nil {
		return err
	}
	defer peer.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/search", searchHandler(peer))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	slog.Info("serving", "url", "http://"+ln.Addr().String(), "articles", len(k.Articles))
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type apiHit struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	URL     string  `json:"url"`
	Snippet string  `json:"snippet"`
	Score   float64 `json:"score"`
	Lang    string  `json:"lang"`
}

type apiResult struct {
	Query string   `json:"query"`
	Hits  []apiHit `json:"hits"`
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

func searchHandler(peer *fts5peer.Peer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		if strings.TrimSpace(q) == "" {
			http.Error(w, `{"error":"q: must not be empty"}`, http.StatusBadRequest)
			return
		}
		limit := 10
		if s := r.URL.Query().Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 100 {
				http.Error(w, `{"error":"limit: must be between 1 and 100"}`, http.StatusBadRequest)
				return
			}
			limit = n
		}
		hits, err := peer.Search(r.Context(), q, r.URL.Query().Get("lang"), limit, true)
		if err != nil {
			slog.Error("search", "err", err)
			http.Error(w, `{"error":"search failed"}`, http.StatusInternalServerError)
			return
		}
		out := apiResult{Query: q, Hits: make([]apiHit, 0, len(hits))}
		for _, h := range hits {
			a := h.Article
			out.Hits = append(out.Hits, apiHit{ID: a.ID, Title: a.Title, URL: a.URL(), Snippet: h.Snippet, Score: -h.Score, Lang: a.Lang})
		}
		body, err := json.Marshal(out)
		if err != nil {
			http.Error(w, `{"error":"encoding failed"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Vary", "Accept-Encoding")
		if len(body) >= minCompressed && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			var buf bytes.Buffer
			gz := gzipWriters.Get().(*gzip.Writer)
			gz.Reset(&buf)
			gz.Write(body)
			gz.Close()
			gzipWriters.Put(gz)
			body = buf.Bytes()
			w.Header().Set("Content-Encoding", "gzip")
		}
		// The length up front: no chunked encoding, as the portal's answers.
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}
}
