package console

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/kb"
)

// Revision is one change to an article's file in the content's history,
// as the history page shows it (the caller maps its git commits onto it).
type Revision struct {
	ID      string // the commit's full id
	Author  string
	When    time.Time
	Subject string // the commit message's first line
	Patch   string // the unified diff of the article's file in this commit
}

// historyLimit is the number of revisions the history page shows.
const historyLimit = 50

type historyPage struct {
	layout
	Article   *kb.Article
	Revisions []revisionView
	// Available is false when the portal has no content history to show
	// (Services.History is nil).
	Available bool
}

type revisionView struct {
	Revision
	Short string // the id's first 8 characters, enough for git revert
	Lines []diffLine
}

// diffLine is one line of a patch and its kind: "add", "del", "hunk",
// "meta" (file headers) or "ctx" (unchanged).
type diffLine struct {
	Kind, Text string
}

// articleHistory is GET /writer/articles/LANG/SLUG/history: the changes to
// an article, newest first, each with its diff.
func (h *handler) articleHistory(c *fiber.Ctx) error {
	slug, ok := strings.CutSuffix(strings.Trim(unescapePath(c.Params("*")), "/"), "/history")
	if !ok {
		return httpkit.ErrNotFound
	}
	a, ok := h.kb().Get(c.Params("lang"), slug)
	if !ok {
		return httpkit.ErrNotFound
	}
	p := historyPage{layout: h.layout(c, "History of "+a.Title), Article: a, Available: h.history != nil}
	p.Section = "writer"
	if h.history != nil {
		revs, err := h.history(c.UserContext(), a.Path, historyLimit)
		if err != nil {
			return err
		}
		if len(revs) > historyLimit {
			revs = revs[:historyLimit]
		}
		for _, r := range revs {
			p.Revisions = append(p.Revisions, revisionView{Revision: r, Short: shortID(r.ID), Lines: diffLines(r.Patch)})
		}
	}
	return h.render(c, fiber.StatusOK, "history", p)
}

// historyURL is the history page of an article.
func historyURL(a *kb.Article) string {
	return "/writer/articles/" + strings.TrimPrefix(a.URL(), "/kb/") + "/history"
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// diffLines splits a unified diff into lines and tells their kinds, for
// the page to colour and to announce to screen readers. A file's header
// (diff, index, ---, +++) runs up to its first hunk; inside a hunk the
// first character decides, so a removed line "-- x" is not a header.
func diffLines(patch string) []diffLine {
	patch = strings.TrimSuffix(patch, "\n")
	if patch == "" {
		return nil
	}
	var out []diffLine
	inHunk := false
	for _, l := range strings.Split(patch, "\n") {
		kind := "meta"
		switch {
		case strings.HasPrefix(l, "diff "):
			inHunk = false
		case strings.HasPrefix(l, "@@"):
			kind, inHunk = "hunk", true
		case !inHunk:
		case strings.HasPrefix(l, "+"):
			kind = "add"
		case strings.HasPrefix(l, "-"):
			kind = "del"
		case strings.HasPrefix(l, `\`): // "\ No newline at end of file"
		default:
			kind = "ctx"
		}
		out = append(out, diffLine{Kind: kind, Text: l})
	}
	return out
}

// unescapePath decodes a path taken from the URL; a malformed escape is
// kept as it is, and then matches nothing.
func unescapePath(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}
