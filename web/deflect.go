package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/websocket"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/langtag"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/tickets"
)

// maxSuggestions is how many articles are shown beside a draft.
const maxSuggestions = 5

// maxDraftBody bounds a draft sent to POST /api/deflect: a subject and a
// description at their limits, in the widest UTF-8, with JSON around them.
// (The WebSocket's read limit, 64 KiB, is below it.)
const maxDraftBody = 4*(200+tickets.MaxDescription) + 4<<10

// draftIn is a ticket draft, sent over the WebSocket or POST /api/deflect.
type draftIn struct {
	Type    string `json:"type"` // "draft" on the WebSocket
	Session string `json:"session"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	Lang    string `json:"lang"`
	// Fallback false asks for suggestions in Lang alone; by default those
	// of its fallback language follow.
	Fallback *bool `json:"fallback"`
	QueryID  int64 `json:"query_id"` // echoed, so a client can drop stale answers
}

// draftOut answers a draft with the articles that may solve it.
type draftOut struct {
	Type        string   `json:"type"`
	Session     string   `json:"session"`
	QueryID     int64    `json:"query_id"`
	Suggestions []apiHit `json:"suggestions"`
}

// suggest records the draft in its deflection session (starting one if it
// has none, within the client's limit of new sessions) and finds the
// articles to show beside it. client is the sender's address.
func (h *handler) suggest(ctx context.Context, in draftIn, client string) (draftOut, error) {
	out := draftOut{Type: "suggestions", Session: in.Session, QueryID: in.QueryID, Suggestions: []apiHit{}}
	lang := ""
	if in.Lang != "" {
		l, ok := langtag.Normalize(in.Lang)
		if !ok {
			return out, httpkit.BadRequest("lang: unknown language " + strconv.Quote(in.Lang))
		}
		lang = l
	}
	if out.Session == "" {
		if err := h.limits.NewSession.Allow(client); err != nil {
			return out, err
		}
		id, err := h.deflect.Start(ctx, lang)
		if err != nil {
			return out, err
		}
		out.Session = id
	} else if err := h.deflect.Touch(ctx, out.Session); err != nil {
		return out, err
	}
	// A space after the last word says it is finished: it is kept for the
	// search, which otherwise completes a last word no article has.
	typed := strings.TrimLeftFunc(in.Subject+"\n"+in.Body, unicode.IsSpace)
	text := strings.TrimSpace(typed)
	if text == "" {
		return out, nil
	}
	q := search.DraftQuery(truncateUTF8(typed, search.MaxTextBytes), lang, maxSuggestions)
	q.NoFallback = in.Fallback != nil && !*in.Fallback
	res, err := h.ix.Search(ctx, q)
	if err != nil {
		return out, err
	}
	h.onSearch("suggest", res.Took)
	ids := make([]string, 0, len(res.Hits))
	for _, hit := range res.Hits {
		out.Suggestions = append(out.Suggestions, newAPIHit(hit))
		ids = append(ids, hit.Article.ID)
	}
	// What the agent sees "before filing" is no longer than a description.
	if err := h.deflect.Suggested(ctx, out.Session, truncateRunes(text, tickets.MaxDescription), ids, res.BelowFloor); err != nil {
		return out, err
	}
	return out, nil
}

// apiDeflect is POST /api/deflect, the fallback when WebSockets fail.
func (h *handler) apiDeflect(c *fiber.Ctx) error {
	var in draftIn
	if err := json.Unmarshal(c.Body(), &in); err != nil {
		// A field of the wrong type is named ("fallback": "no").
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return httpkit.BadRequest(te.Field + ": must be a " + te.Type.String())
		}
		return httpkit.BadRequest("body: must be a JSON object with subject and body")
	}
	out, err := h.suggest(c.UserContext(), in, httpkit.ClientIP(c))
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// apiDeflectAction is POST /api/deflect/:session/(opened|solved|continued).
func (h *handler) apiDeflectAction(c *fiber.Ctx) error {
	session := c.Params("session")
	var in struct {
		Article string `json:"article"`
	}
	if len(c.Body()) > 0 {
		if err := json.Unmarshal(c.Body(), &in); err != nil {
			return httpkit.BadRequest("body: must be a JSON object")
		}
	}
	ctx := c.UserContext()
	var err error
	switch c.Params("action") {
	case "opened", "solved":
		if _, ok := h.kb().ByID(in.Article); !ok {
			return httpkit.BadRequest("article: no such article " + strconv.Quote(in.Article))
		}
		if c.Params("action") == "opened" {
			err = h.deflect.Opened(ctx, session, in.Article)
		} else {
			err = h.deflect.Solved(ctx, session, in.Article)
		}
	case "continued":
		err = h.deflect.Continued(ctx, session)
	default:
		return httpkit.ErrNotFound
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "ok"})
}

// deflectSocket serves /api/deflect/ws: the client sends drafts as the
// customer types, the server answers each with suggestions. Drafts that
// arrive while one is being searched replace each other, so the server
// answers the latest and never falls behind a fast typist.
func (h *handler) deflectSocket(conn *websocket.Conn, r *http.Request) {
	ctx := r.Context()
	client := httpkit.RequestClientIP(r)
	done := make(chan struct{})
	defer close(done)
	go httpkit.KeepAlive(conn, done)

	latest := make(chan draftIn, 1)
	readErr := make(chan error, 1)
	go func() {
		for {
			var in draftIn
			if err := conn.ReadJSON(&in); err != nil {
				readErr <- err
				return
			}
			select { // replace a draft not yet searched
			case <-latest:
			default:
			}
			latest <- in
		}
	}()
	session := ""
	for {
		select {
		case <-readErr:
			return
		case in := <-latest:
			if in.Session == "" {
				in.Session = session
			}
			out, err := h.suggest(ctx, in, client)
			if err != nil {
				code, msg := httpkit.StatusOf(err)
				if code >= 500 {
					h.errors.ServerError("WS", "/api/deflect/ws", code, err)
				}
				answer := fiber.Map{"type": "error", "status": code, "error": msg, "query_id": in.QueryID}
				if s, ok := httpkit.RetryAfter(err); ok {
					answer["retry_after"] = s
				}
				conn.SetWriteDeadline(time.Now().Add(httpkit.WriteWait))
				if conn.WriteJSON(answer) != nil {
					return
				}
				continue
			}
			session = out.Session
			conn.SetWriteDeadline(time.Now().Add(httpkit.WriteWait))
			if err := conn.WriteJSON(out); err != nil {
				return
			}
		}
	}
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
