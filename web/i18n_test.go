package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/tickets"
)

// fileTicketIn files a valid ticket in lang directly in the store.
func fileTicketIn(t *testing.T, p *portal, lang string) (tickets.Ticket, string) {
	t.Helper()
	tk, token, err := p.svc.Tickets.File(context.Background(), tickets.NewTicket{Name: "Jana", Company: "Acme",
		Phone: "+420 601 555 010", Email: "jana@acme.example", Subject: "Export", Description: "The export stops.",
		Severity: 2, Deployment: tickets.DeploymentOwnServer, Lang: lang})
	if err != nil {
		t.Fatal(err)
	}
	return tk, token
}

var (
	i18nBlock = regexp.MustCompile(`(?s)<script type="application/json" id="i18n-strings">(.*?)</script>`)
	// A placeholder left unfilled, or a key shown instead of its message.
	leakedPlaceholder = regexp.MustCompile(`\{[a-z_][a-z0-9_]*\}`)
	leakedKey         = regexp.MustCompile(`\b(?:site|date|number|kb|home|search|article|error|severity|deployment|field_error|new_ticket|ticket|email)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*\b`)
)

// wantNoLeaks checks a page for raw keys and unfilled placeholders outside
// the JSON block of its scripts' words, whose placeholders are the
// scripts' to fill.
func wantNoLeaks(t *testing.T, target, body string) {
	t.Helper()
	page := i18nBlock.ReplaceAllString(body, "")
	if m := leakedPlaceholder.FindString(page); m != "" {
		t.Errorf("%s: unfilled placeholder %s", target, m)
	}
	if m := leakedKey.FindString(page); m != "" {
		t.Errorf("%s: raw key %s", target, m)
	}
}

// pageStrings returns the words a page embeds for its scripts.
func pageStrings(t *testing.T, body string) map[string]string {
	t.Helper()
	m := i18nBlock.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("page has no i18n-strings block")
	}
	var out map[string]string
	if err := json.Unmarshal([]byte(m[1]), &out); err != nil {
		t.Fatalf("i18n-strings: %v: %s", err, m[1])
	}
	return out
}

func TestCustomerPagesInEveryLanguage(t *testing.T) {
	p := newPortal(t, Config{})
	tk, token := fileTicketIn(t, p, "en")
	ticket := ticketURL(tk.Number, token)
	pages := []string{"/", "/search?q=password", "/search?q=nothingmatcheszz", "/search", "/tickets/new", ticket, ticket + "&new=1",
		"/no-such-page", "/search?q=x&page=0"}
	for _, lang := range []string{"en", "fr", "de", "cs"} {
		for _, target := range pages {
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			target += sep + "lang=" + lang
			_, body := p.get(t, target)
			wantContains(t, body, `<html lang="`+lang+`">`)
			wantNoLeaks(t, target, body)
			wantNoInlineCode(t, body)
		}
	}
	// Articles and categories are in their own language.
	for _, target := range []string{"/kb/en/account/reset-password", "/kb/de/account/reset-password", "/kb/cs/heslo",
		"/kb/en/category/account-login", "/kb/de/category/konto-anmeldung", "/kb/en/account/reset-password?voted=1"} {
		_, body := p.get(t, target, "Accept-Language", "fr")
		wantContains(t, body, `<html lang="`+strings.Split(target, "/")[2]+`">`)
		wantNoLeaks(t, target, body)
	}
}

func TestPagesFollowTheReadersLanguage(t *testing.T) {
	p := newPortal(t, Config{})
	tests := []struct {
		name, target, acceptLanguage, lang string
		wants                              []string
	}{
		{"home, header", "/", "cs-CZ,cs;q=0.9,en;q=0.8", "cs", []string{"Jak vám můžeme pomoci?", "Procházet podle kategorie",
			"Nenašli jste odpověď?", `href="/tickets/new?lang=cs"`, "Hledejte nebo popište problém", ">Hledat</button>"}},
		{"home, query", "/?lang=de", "fr", "de", []string{"Wie können wir helfen?", "Kürzlich aktualisiert", "28. September 2026"}},
		// No French articles: the English ones, in French words.
		{"search, header", "/search?q=password", "fr", "fr", []string{"1 résultat</h2>", "Catégorie", "Mot-clé"}},
		{"search, no match", "/search?q=zzzzzz", "de", "de", []string{"Keine Artikel zu „zzzzzz“ gefunden", "Unser Support-Team fragen"}},
		{"search, did you mean", "/search?q=Paswort&lang=de", "cs", "de", []string{`Meinten Sie <a href="/search?lang=de&amp;q=passwort">passwort</a>?`}},
		{"article in German", "/kb/de/account/reset-password", "cs", "de", []string{"War dieser Artikel hilfreich?",
			`value="yes">Ja</button>`, "Aktualisiert am", "Auch auf:"}},
		{"article in Czech", "/kb/cs/heslo", "", "cs", []string{"Pomohl vám tento článek?", `value="no">Ne</button>`}},
		{"new ticket, header", "/tickets/new", "fr-CH, de;q=0.5", "fr", []string{"Contacter l’assistance", ">Envoyer le ticket</button>",
			"Urgente", "La production est arrêtée", "Votre propre serveur, installation recommandée", `action="/tickets?lang=fr"`, "Détecter d’après mon texte"}},
		{"new ticket, query", "/tickets/new?lang=cs", "de", "cs", []string{">Odeslat tiket</button>", "Závažnost", "Vysoká",
			"nejvýše 5 souborů, každý nejvýše 10\u00a0MB"}},
		{"new ticket, German", "/tickets/new", "de-AT", "de", []string{">Ticket senden</button>", "Ihre Kontaktdaten", "Schweregrad"}},
		{"not found", "/no-such-page", "de", "de", []string{"Seite nicht gefunden", "Zur Startseite"}},
		{"bad request", "/search?q=x&page=0", "cs", "cs", []string{"Chybný požadavek"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body := p.get(t, tt.target, "Accept-Language", tt.acceptLanguage)
			wantContains(t, body, `<html lang="`+tt.lang+`">`)
			wantContains(t, body, tt.wants...)
			wantNoLeaks(t, tt.target, body)
		})
	}
}

func TestTicketPageLanguage(t *testing.T) {
	p := newPortal(t, Config{})
	cs, csToken := fileTicketIn(t, p, "cs")
	es, esToken := fileTicketIn(t, p, "es")
	csURL, esURL := ticketURL(cs.Number, csToken), ticketURL(es.Number, esToken)

	// The ticket's language, whatever the browser prefers.
	_, body := p.get(t, csURL+"&new=1", "Accept-Language", "de")
	wantContains(t, body, `<html lang="cs">`, "Tiket č.\u00a0"+itoa(cs.Number), "Váš tiket byl založen.",
		"Přijatý", "Vysoká", "Tarif Basic: konečné vyřešení do 24 pracovních hodin, nejpozději:", "Odeslat odpověď",
		"Konverzace", "Tiket založen", "Váš vlastní server", `data-state="static">Nové odpovědi uvidíte`)
	wantLacks(t, body, "english-note")
	wantNoLeaks(t, csURL, body)
	words := pageStrings(t, body)
	for key, want := range map[string]string{
		"ticket.live.live": "Živě", "ticket.status.waiting": "Čeká na vaši odpověď", "severity.2.name": "Vysoká",
		"ticket.sla.paused":       "Lhůta pro vyřešení je pozastavena, dokud čekáme na vaši odpověď.",
		"ticket.history.severity": "Závažnost změněna na {severity}", "ticket.size.bytes.few": "{count}\u00a0bajty",
		"search.instant.label": "Navrhované články",
	} {
		if words[key] != want {
			t.Errorf("ticket page's words[%q] = %q, want %q", key, words[key], want)
		}
	}

	// ?lang= overrides, and the reply form keeps it.
	_, body = p.get(t, csURL+"&lang=fr")
	wantContains(t, body, `<html lang="fr">`, "Envoyer la réponse", `action="/tickets/`+itoa(cs.Number)+`/replies?lang=fr"`)

	// A ticket in another language is answered in English, and so is its page.
	_, body = p.get(t, esURL, "Accept-Language", "fr")
	wantContains(t, body, `<html lang="en">`, `id="english-note"`, "Send reply", "Ticket #"+itoa(es.Number))

	// A refused reply names the reason in the page's language.
	form := url.Values{"token": {csToken}, "body": {" "}}
	req := httptest.NewRequest(http.MethodPost, "/tickets/"+itoa(cs.Number)+"/replies", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, body := p.do(t, req)
	wantStatus(t, res, 422)
	wantContains(t, body, "Vaše odpověď nebyla odeslána: povinný údaj.")

	// A sent reply says so, and keeps an asked-for language.
	form.Set("body", "Tady je log.")
	req = httptest.NewRequest(http.MethodPost, "/tickets/"+itoa(cs.Number)+"/replies?lang=de", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, _ = p.do(t, req)
	wantStatus(t, res, 303)
	loc := res.Header.Get("Location")
	if !strings.Contains(loc, "&lang=de") {
		t.Fatalf("Location = %q, want the language kept", loc)
	}
	_, body = p.get(t, loc)
	wantContains(t, body, "Ihre Antwort wurde gesendet.", "Sie haben geantwortet")

	// The JSON API stays English.
	_, body = p.get(t, "/api/tickets/"+itoa(cs.Number), "Authorization", "Bearer "+csToken)
	wantContains(t, body, `"sla_text":"Basic plan: final resolution within 24 working hours`, `"text":"Ticket filed"`)
}

func TestTicketFormErrorsInTheReadersLanguage(t *testing.T) {
	p := newPortal(t, Config{})
	form := url.Values{"name": {"Jana"}, "company": {"Acme"}, "phone": {"12ab"}, "email": {"nope"},
		"subject": {strings.Repeat("x", 201)}, "description": {"The export stops."}}
	post := func(target string, form url.Values, acceptLanguage string) string {
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", acceptLanguage)
		res, body := p.do(t, req)
		wantStatus(t, res, 422)
		wantNoLeaks(t, target, body)
		return body
	}
	body := post("/tickets?lang=de", form, "fr")
	wantContains(t, body, `<html lang="de">`, "Bitte korrigieren Sie vor dem Senden Folgendes",
		`<a href="#email">E-Mail: keine gültige E-Mail-Adresse</a>`,
		`<a href="#subject">Betreff: höchstens 200 Zeichen</a>`,
		`<a href="#severity-1">Schweregrad: wählen Sie eine der vier Stufen</a>`,
		"Direkte Telefonnummer: nur Ziffern, Leerzeichen,",
		"Dateien werden nicht aufbewahrt")

	// Without ?lang=: the language chosen for the ticket, else the header.
	form.Set("lang", "cs")
	body = post("/tickets", form, "fr")
	wantContains(t, body, `<html lang="cs">`, "toto není e-mailová adresa", "nejvýše 200 znaků")
	form.Del("lang")
	body = post("/tickets", form, "fr")
	wantContains(t, body, `<html lang="fr">`, "Objet\u00a0: 200 caractères au maximum")
}

func TestLocalProblem(t *testing.T) {
	words, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang string
		p    fields.Problem
		want string
	}{
		{"en", fields.New(fields.Required), "required"},
		{"de", fields.New(fields.TooLong, "max", 1), "höchstens 1 Zeichen"},
		{"cs", fields.New(fields.TooManyFiles, "max", 3), "nejvýše 3 soubory"},
		{"fr", fields.ForFiles(fields.NewFile("a.log", fields.FileEmpty), fields.NewFile("b.exe", fields.FileType)),
			"a.log\u00a0: le fichier est vide; b.exe\u00a0: type de fichier non autorisé (texte, journal, JSON, ZIP, gzip, PNG, JPEG, GIF ou PDF)"},
		{"cs", fields.ForFiles(fields.NewFile("big.zip", fields.FileTooLarge, "max_mb", 10)), "big.zip: větší než 10\u00a0MB"},
		{"de", fields.ForFiles(fields.NewFile("a: b.zip", fields.FileTooLarge, "max_mb", 10)), "a: b.zip: größer als 10\u00a0MB"},
		{"fr", fields.New(fields.SameStatus, "status", "open"), "the ticket is already open"}, // no locale key: English
	}
	for _, tt := range tests {
		if got := localProblem(words, tt.lang, tt.p); got != tt.want {
			t.Errorf("localProblem(%s, %+v) = %q, want %q", tt.lang, tt.p, got, tt.want)
		}
	}
}

var templateKey = regexp.MustCompile(`\{\{-?\s*t\s+\$?\.?[A-Za-z]*\s+"([^"]+)"`)

// TestTemplateKeysExist checks every key a template passes to t.
func TestTemplateKeysExist(t *testing.T) {
	words, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(templateFS, path)
		if err != nil {
			return err
		}
		for _, m := range templateKey.FindAllStringSubmatch(string(src), -1) {
			n++
			if words.T("en", m[1]) == m[1] {
				t.Errorf("%s: unknown key %q", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Errorf("found only %d keys in the templates; is the pattern right?", n)
	}
}

// TestTicketFormFileErrorsInTheReadersLanguage: the form sent back names
// each refused file in the page's language, with the limits from their codes.
func TestTicketFormFileErrorsInTheReadersLanguage(t *testing.T) {
	p := newPortal(t, Config{})
	post := func(target string, subject string, name string, data []byte) string {
		t.Helper()
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, v := range map[string]string{"name": "Jana", "company": "Acme", "phone": "+420 601 555 010",
			"email": "jana@acme.example", "subject": subject, "description": "Jobs are stuck.", "severity": "3"} {
			w.WriteField(k, v)
		}
		fw, _ := w.CreateFormFile("attachments", name)
		fw.Write(data)
		w.Close()
		req := httptest.NewRequest(http.MethodPost, target, &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		res, body := p.do(t, req)
		wantStatus(t, res, 422)
		return body
	}
	body := post("/tickets?lang=fr", strings.Repeat("x", 201), "evil.exe", []byte("MZ\x90\x00 not a log"))
	wantContains(t, body, `<html lang="fr">`, "200 caractères au maximum",
		"evil.exe\u00a0: type de fichier non autorisé (texte, journal, JSON, ZIP, gzip, PNG, JPEG, GIF ou PDF)")
	wantLacks(t, body, "at most 200 characters", "not an allowed type")

	body = post("/tickets?lang=de", "Jobs stuck", "big.log", make([]byte, tickets.MaxAttachmentSize+1))
	wantContains(t, body, `<html lang="de">`, "big.log: größer als 10\u00a0MB")
	wantLacks(t, body, "larger than")
}

// The language a visitor picks with the switcher (?lang=) is kept on the
// pages that follow, search and the ticket form included (issue 13, 5):
// a cookie, not a parameter every link must carry.
func TestLanguageChoiceIsRemembered(t *testing.T) {
	p := newPortal(t, Config{})
	res, _ := p.get(t, "/?lang=de")
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == langCookie {
			cookie = c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge < 30*24*3600 {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, kept a year", c)
			}
		}
	}
	if cookie != "de" {
		t.Fatalf("no %s=de cookie: %v", langCookie, res.Header.Values("Set-Cookie"))
	}
	if cc := res.Header.Get("Cache-Control"); cc != "private" {
		t.Errorf("Cache-Control %q on the answer that sets the cookie, want private", cc)
	}
	for _, path := range []string{"/search?q=passwort", "/tickets/new"} {
		_, body := p.get(t, path, "Cookie", langCookie+"=de", "Accept-Language", "en")
		wantContains(t, body, `<html lang="de"`)
	}
	// ?lang= still wins, and replaces the choice.
	res, body := p.get(t, "/search?q=password&lang=fr", "Cookie", langCookie+"=de")
	wantContains(t, body, `<html lang="fr"`)
	if got := res.Header.Get("Set-Cookie"); !strings.Contains(got, langCookie+"=fr") {
		t.Errorf("Set-Cookie %q, want the new choice", got)
	}
	// A cookie that is not a language is ignored.
	_, body = p.get(t, "/search?q=password", "Cookie", langCookie+"=xx-garbage", "Accept-Language", "cs")
	wantContains(t, body, `<html lang="cs"`)
}
