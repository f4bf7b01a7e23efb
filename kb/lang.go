package kb

import "strings"

// iso6391 lists the ISO 639-1 language codes; a language outside it is
// reported as unknown by `portal check`.
const iso6391 = "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy " +
	"da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz " +
	"ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv " +
	"mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw " +
	"sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz " +
	"ve vi vo wa wo xh yi yo za zh zu"

var knownLangs = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(iso6391) {
		m[c] = true
	}
	return m
}()

// DefaultLang is the language of an article that names none.
const DefaultLang = "en"

// NormalizeLang turns "pt_BR", "PT-br" into "pt-BR" and reports whether the
// base language is a known ISO 639-1 code.
func NormalizeLang(s string) (string, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", "-"))
	if s == "" {
		return "", false
	}
	base, region, hasRegion := strings.Cut(s, "-")
	base = strings.ToLower(base)
	if !knownLangs[base] {
		return s, false
	}
	if !hasRegion {
		return base, true
	}
	if len(region) < 2 || len(region) > 4 {
		return s, false
	}
	return base + "-" + strings.ToUpper(region), true
}

// BaseLang returns the language without its region: "pt-BR" → "pt".
func BaseLang(lang string) string {
	base, _, _ := strings.Cut(lang, "-")
	return base
}

// langFromPath returns the language named by the first directory of rel
// (e.g. "de/account/reset.md" → "de"), or "" if it names none.
func langFromPath(rel string) string {
	first, _, ok := strings.Cut(rel, "/")
	if !ok || len(first) < 2 || len(first) > 7 {
		return ""
	}
	if l, ok := NormalizeLang(first); ok {
		return l
	}
	return ""
}
