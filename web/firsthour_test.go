package web

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// httpGet fetches url from a portal on a real port with the given header
// pairs, and returns the response with its body read (as sent: a client
// that asks for gzip itself gets the compressed bytes).
func httpGet(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// TestTaskListCheckboxNames: a task list's checkboxes reach the page with an
// accessible name in the article's language (issue 10, item 12).
func TestTaskListCheckboxNames(t *testing.T) {
	base, _ := serveBundledPortal(t)
	for _, c := range []struct{ url, want string }{
		{"/kb/en/how-to-file-a-good-ticket", `<input disabled="" type="checkbox" aria-label="Not done">`},
		{"/kb/de/how-to-file-a-good-ticket", `<input disabled="" type="checkbox" aria-label="Offen">`},
	} {
		res, body := httpGet(t, base+c.url)
		wantStatus(t, res, http.StatusOK)
		wantContains(t, body, c.want)
		if strings.Count(body, `type="checkbox"`) != strings.Count(body, `type="checkbox" aria-label=`) {
			t.Errorf("%s: a checkbox without a name", c.url)
		}
	}
}
