package web

import (
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/search"
)

// instantLimit is how many results the search box's list asks for
// (LIMIT in static/app.js).
const instantLimit = 6

// WarmQueries turns recent searches into the queries this package runs
// for them, field for field, so that the search cache warmed with them
// (search.Config.Warm) answers the same requests: a results page's first
// page (pageSize as in Config, 0: 10), an API search with the default
// limit, and for a result picked from the search box's list, that list's
// as-you-type query. Drafts are not recorded as searches and so not
// warmed: each is a customer's own text.
func WarmQueries(recent []events.WarmQuery, pageSize int) []search.Query {
	if pageSize <= 0 {
		pageSize = 10
	}
	out := make([]search.Query, 0, len(recent))
	for _, w := range recent {
		q := search.Query{Text: w.Text, Lang: w.Lang}
		switch w.Source {
		case "page":
			q.Limit, q.Facets = pageSize, true
		case "api":
			q.Limit = 10
		case "instant":
			q.Limit, q.Prefix = instantLimit, true
		default:
			continue
		}
		out = append(out, q)
	}
	return out
}
