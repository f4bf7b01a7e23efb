package i18n

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func mustLoad(t *testing.T) *Bundle {
	t.Helper()
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEmbeddedLocalesAreComplete(t *testing.T) {
	b := mustLoad(t)
	if got := b.Languages(); !slices.Equal(got, []string{"en", "fr", "de", "cs"}) {
		t.Errorf("Languages() = %v", got)
	}
	for _, lang := range b.Languages() {
		for key, m := range b.messages[lang] {
			texts := []string{m.text}
			if m.forms != nil {
				texts = nil
				for _, s := range m.forms {
					texts = append(texts, s)
				}
			}
			for _, s := range texts {
				if strings.TrimSpace(s) == "" {
					t.Errorf("%s: %s is empty", lang, key)
				}
				// Markup only where the key says so: elsewhere it would
				// be shown escaped.
				if !strings.HasSuffix(key, "_html") && strings.ContainsAny(s, "<>") {
					t.Errorf("%s: %s has markup but no _html suffix: %q", lang, key, s)
				}
			}
		}
	}
}

func TestEveryLanguageIsTranslated(t *testing.T) {
	b := mustLoad(t)
	// A few telling messages must differ from English in every language;
	// a locale copied from en.yaml and never translated fails here.
	for _, key := range []string{"new_ticket.send", "ticket.reply.send", "home.title", "ticket.status.waiting", "email.solved.subject"} {
		en := b.T("en", key)
		for _, lang := range []string{"fr", "de", "cs"} {
			if got := b.T(lang, key); got == en {
				t.Errorf("%s: %s is still English: %q", lang, key, got)
			}
		}
	}
}

// localeFS is the embedded locales with one file replaced.
func localeFSWith(t *testing.T, file, data string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	names, err := fs.Glob(localeFS, "locales/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		b, err := fs.ReadFile(localeFS, name)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = &fstest.MapFile{Data: b}
	}
	m[file] = &fstest.MapFile{Data: []byte(data)}
	return m
}

func TestLoadRefusesInconsistentLocales(t *testing.T) {
	en, err := fs.ReadFile(localeFS, "locales/en.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fr, err := fs.ReadFile(localeFS, "locales/fr.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := fs.ReadFile(localeFS, "locales/cs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, data string
		want             []string // in the error
	}{
		{"missing key", "locales/fr.yaml",
			strings.Replace(string(fr), "    send: Envoyer la réponse\n", "", 1),
			[]string{"locales/fr.yaml", "missing key ticket.reply.send"}},
		{"extra key", "locales/de.yaml",
			string(mustRead(t, "locales/de.yaml")) + "\nextra:\n  key: Zusätzlich\n",
			[]string{"locales/de.yaml", "extra key extra.key"}},
		{"other placeholder", "locales/cs.yaml",
			strings.Replace(string(cs), `title: "Tiket č.`+"\u00a0"+`{number}"`, `title: "Tiket č. {cislo}"`, 1),
			[]string{"locales/cs.yaml", "ticket.title", "placeholders [cislo], want [number]"}},
		{"missing placeholder", "locales/fr.yaml",
			strings.Replace(string(fr), `Aucun ne m’aide`, `Aucun {x} ne m’aide`, 1),
			[]string{"locales/fr.yaml", "new_ticket.continue", "placeholders [x]"}},
		{"plural forms of another language", "locales/cs.yaml",
			strings.Replace(string(cs), "    few: \"{count} články\"\n", "", 1),
			[]string{"locales/cs.yaml", "kb.article_count", "plural forms"}},
		{"plural in one language only", "locales/de.yaml",
			strings.Replace(string(mustRead(t, "locales/de.yaml")), "  title: Wie können wir helfen?\n", "  title:\n    one: Hilfe\n    other: Hilfe\n", 1),
			[]string{"locales/de.yaml", "home.title", "plural in one language only"}},
		{"not YAML", "locales/en.yaml", string(en) + "\n\tbroken: [\n", []string{"locales/en.yaml"}},
		{"a part's key in one language only", "locales/de.zz.yaml", "zz:\n  key: Zusätzlich\n",
			[]string{"locales/de.yaml", "extra key zz.key"}},
		{"a key in two files", "locales/en.zz.yaml", "home:\n  title: Again\n",
			[]string{"locales/en.zz.yaml", "key home.title is also in another file of en"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if old, _ := fs.ReadFile(localeFS, tt.file); tt.data == string(old) {
				t.Fatal("the test's replacement did not change the file")
			}
			_, err := load(localeFSWith(t, tt.file, tt.data))
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(localeFS, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestT(t *testing.T) {
	b := mustLoad(t)
	tests := []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"en", "ticket.title", []any{"number", 1001}, "Ticket #1001"},
		{"de", "ticket.title", []any{"number", 1001}, "Ticket Nr.\u00a01001"},
		{"fr", "ticket.reply.send", nil, "Envoyer la réponse"},
		{"cs", "new_ticket.send", nil, "Odeslat tiket"},
		{"xx", "ticket.reply.send", nil, "Send reply"},  // unknown language: English
		{"", "ticket.reply.send", nil, "Send reply"},    // likewise
		{"fr", "no.such.key", nil, "no.such.key"},       // unknown key: itself
		{"en", "ticket.title", nil, "Ticket #{number}"}, // no argument: left as it is
		{"en", "ticket.title", []any{"other", 1}, "Ticket #{number}"},
		{"en", "search.no_match", []any{"query", "{number}"}, "No articles match “{number}”"}, // arguments are not re-expanded
		{"en", "ticket.history.status", []any{"status", "Open"}, "Status changed to Open"},
		// plurals
		{"en", "kb.article_count", []any{"count", 1}, "1 article"},
		{"en", "kb.article_count", []any{"count", 0}, "0 articles"},
		{"en", "kb.article_count", []any{"count", 2}, "2 articles"},
		{"fr", "kb.article_count", []any{"count", 0}, "0 article"},
		{"fr", "kb.article_count", []any{"count", 2}, "2 articles"},
		{"de", "search.result_count", []any{"count", 1}, "1 Ergebnis"},
		{"de", "search.result_count", []any{"count", 7}, "7 Ergebnisse"},
		{"cs", "kb.article_count", []any{"count", 1}, "1 článek"},
		{"cs", "kb.article_count", []any{"count", 3}, "3 články"},
		{"cs", "kb.article_count", []any{"count", 5}, "5 článků"},
		{"cs", "kb.article_count", []any{"count", 22}, "22 článků"}, // CLDR: "few" is 2–4 only
		{"cs", "kb.article_count", []any{"count", int64(4)}, "4 články"},
		{"cs", "kb.article_count", nil, "{count} článků"}, // no count: "other"
		{"en", "new_ticket.attachments_hint", []any{"count", 5, "mb", 10, "types", ".log"}, "Logs or screenshots: up to 5 files, at most 10 MB each (.log)."},
	}
	for _, tt := range tests {
		if got := b.T(tt.lang, tt.key, tt.args...); got != tt.want {
			t.Errorf("T(%q, %q, %v) = %q, want %q", tt.lang, tt.key, tt.args, got, tt.want)
		}
	}
}

func TestStrings(t *testing.T) {
	b := mustLoad(t)
	got := b.Strings("cs", "search.instant.")
	want := map[string]string{
		"search.instant.label":       "Navrhované články",
		"search.instant.see_all":     "Zobrazit všechny výsledky pro „{query}“",
		"search.instant.none":        "Žádné výsledky",
		"search.instant.count.one":   "{count} výsledek",
		"search.instant.count.few":   "{count} výsledky",
		"search.instant.count.other": "{count} výsledků",
	}
	if len(got) != len(want) {
		t.Errorf("Strings = %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Strings[%q] = %q, want %q", k, got[k], v)
		}
	}
	if got := b.Strings("xx", "ticket.live.live"); got["ticket.live.live"] != "Live" {
		t.Errorf("unknown language: %v, want English", got)
	}
	if got := b.Strings("en", "no.such."); len(got) != 0 {
		t.Errorf("unknown prefix: %v", got)
	}
}

func TestMatch(t *testing.T) {
	b := mustLoad(t)
	tests := []struct{ header, want string }{
		{"", ""},
		{"fr", "fr"},
		{"de-AT", "de"},
		{"de-CH", "de"},
		{"cs-CZ", "cs"},
		{"FR-ca", "fr"},
		{"en-US,en;q=0.9", "en"},
		{"fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"},
		{"ja, fr;q=0.9", "fr"},           // the first supported one
		{"fr;q=0.1, de;q=0.5", "de"},     // q-values, not order
		{"cs;q=0.5, de;q=0.5, fr", "fr"}, // fr has q=1
		{"de;q=0, en", "en"},             // q=0 excludes
		{"de;q=0", ""},
		{"*", ""},
		{"ja", ""},
		{"pt-BR, es", ""},
		{"zz", ""},
		{"not a language!!, cs", "cs"}, // a malformed range is skipped
		{";;;,,", ""},
	}
	for _, tt := range tests {
		if got := b.Match(tt.header); got != tt.want {
			t.Errorf("Match(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestDates(t *testing.T) {
	b := mustLoad(t)
	at := time.Date(2026, 9, 28, 14, 5, 0, 0, time.FixedZone("CEST", 2*3600)) // 12:05 UTC, a Monday
	tests := []struct{ lang, date, weekday string }{
		{"en", "28 September 2026", "Monday 28 September 2026, 12:05 UTC"},
		{"fr", "28 septembre 2026", "lundi 28 septembre 2026, 12:05 UTC"},
		{"de", "28. September 2026", "Montag, 28. September 2026, 12:05 UTC"},
		{"cs", "28. září 2026", "pondělí 28. září 2026, 12:05 UTC"},
	}
	for _, tt := range tests {
		if got := b.Date(tt.lang, at); got != tt.date {
			t.Errorf("Date(%s) = %q, want %q", tt.lang, got, tt.date)
		}
		if got := b.WeekdayDateTimeUTC(tt.lang, at); got != tt.weekday {
			t.Errorf("WeekdayDateTimeUTC(%s) = %q, want %q", tt.lang, got, tt.weekday)
		}
	}
	if got := b.DateTimeUTC("en", at); got != "28 September 2026, 12:05 UTC" {
		t.Errorf("DateTimeUTC = %q", got)
	}
}

func TestEmails(t *testing.T) {
	b := mustLoad(t)
	for _, lang := range b.Languages() {
		for _, kind := range []string{"filed", "replied", "status", "solved"} {
			for _, part := range []string{"subject", "body"} {
				key := "email." + kind + "." + part
				got := b.T(lang, key, "number", 1001, "subject", "Export fails", "name", "Jana",
					"link", "https://help.example/tickets/1001?token=t", "status", "Open", "reply", "Hello", "sla", "By Monday.")
				if got == key || strings.Contains(got, "{") {
					t.Errorf("%s: %s = %q", lang, key, got)
				}
				if part == "body" && !strings.Contains(got, "https://help.example/tickets/1001?token=t") {
					t.Errorf("%s: %s lacks the ticket's link", lang, key)
				}
			}
		}
	}
}

func TestLoadMergesParts(t *testing.T) {
	m := localeFSWith(t, "locales/en.zz.yaml", "zz:\n  hello: Hello {name}\n")
	for lang, text := range map[string]string{"fr": "Bonjour {name}", "de": "Hallo {name}", "cs": "Dobrý den, {name}"} {
		m.(fstest.MapFS)["locales/"+lang+".zz.yaml"] = &fstest.MapFile{Data: []byte("zz:\n  hello: " + text + "\n")}
	}
	b, err := load(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.T("de", "zz.hello", "name", "Jana"); got != "Hallo Jana" {
		t.Errorf("de zz.hello = %q", got)
	}
	if got := b.T("en", "home.title"); got == "" || got == "home.title" {
		t.Errorf("en home.title = %q: the main file was not loaded with the part", got)
	}
}
