package mailroute_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/orbitask/portal/internal/testportal"
)

// TestOpenedOncePerArticle: a link scanner opening an answer's article
// link 50 times records one "opened" in the question's session.
func TestOpenedOncePerArticle(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	q := rawMail("Petr Svoboda <petr@firm.example>", support, "Password reset", "<question1@firm.example>", "",
		"Hello, I forgot my password and cannot sign in. How do I reset my password?\n")
	if err := p.Route.Deliver(ctx, "petr@firm.example", []string{support}, q); err != nil {
		t.Fatal(err)
	}
	var text string
	p.DB.QueryRow(`SELECT text_body FROM mail_outbox WHERE kind='question'`).Scan(&text)
	s := regexp.MustCompile(`\?ds=([A-Za-z0-9_-]{22})`).FindStringSubmatch(text)[1]
	for range 50 {
		testportal.Get(t, p.srv, "/kb/en/reset-password?ds="+s)
	}
	testportal.Get(t, p.srv, "/kb/en/cannot-log-in?ds="+s)
	if n := p.count(t, `SELECT count(*) FROM deflect_events WHERE session_id = ? AND kind = 'opened'`, s); n != 2 {
		t.Errorf("%d opened events after 50 GETs of one article and one of another, want 2", n)
	}
}
