package tickets

import (
	"strings"
	"unicode"

	"github.com/orbitask/portal/langtag"
)

// answerInEnglish reports whether a ticket in lang is answered in English:
// a ticket in an official support language (English, French, German,
// Czech) or a regional variant of one is answered in it; a ticket in any
// other language is machine-translated and answered in English.
func answerInEnglish(lang string) bool {
	return !langtag.IsOfficial(langtag.Base(lang))
}

// stopWords are the commonest function words of each language we can tell
// apart: the four official ones, and the neighbours a customer most likely
// writes in instead. Technical words ("error", "server") are left out on
// purpose: tickets use them in every language.
func stopWords() map[string]string {
	return map[string]string{
		"en": "the and of to is in it that for on with this was are be not have has but when my we you from after can does cannot what how which there an at or i",
		"fr": "le la les des est une un et pas pour que qui dans sur avec ne je nous vous il elle ce cette du au aux mais ou sont être fait quand depuis plus peut",
		"de": "der die das und ist nicht ein eine ich wir sie es mit auf für von zu den dem bei wenn kann keine auch sich nach werden wird haben hat beim oder aber",
		"cs": "je se na že to v ve a nejde není jsem jsme při pro do z ze po ale nebo když jak by bylo byl aby mi nám také tak už ani nelze nefunguje",
		"es": "el la los las de que y en un una es no por con para se al lo como pero más cuando está hay mi su del sin puedo también",
		"it": "il di che e la le non un una per con sono è del della nel alla ma come anche quando più questo",
		"pt": "o a os as de que e não um uma para com por do da no na em é mas quando também está isso",
		"nl": "de het een en van is niet dat ik we op voor met zijn maar als bij er wordt kan",
		"sv": "och att det som en är på för med inte jag vi har den till av om kan ett eller när efter men så också får",
		"pl": "i w nie się na jest to że z do jak ale co po przy tak czy dla już mnie",
	}
}

// letterHint returns the language that, among those above, alone uses the
// letter r, or ""; a word containing one counts half a stop word for it.
func letterHint(r rune) string {
	switch r {
	case 'ř', 'ě', 'ů':
		return "cs"
	case 'ß':
		return "de"
	case 'ñ':
		return "es"
	case 'å':
		return "sv"
	case 'ł', 'ą', 'ę':
		return "pl"
	}
	return ""
}

// stopIndex maps a stop word to the languages that have it.
type stopIndex map[string][]string

func newStopIndex() stopIndex {
	idx := stopIndex{}
	for lang, words := range stopWords() {
		for _, w := range strings.Fields(words) {
			idx[w] = append(idx[w], lang)
		}
	}
	return idx
}

// detectLang guesses the language of text. It counts stop words: each word
// that is a stop word of k languages adds 1/k to each of them, so "de" (a
// stop word in five languages) says little and "nicht" says German. A
// language wins when it scores at least 2 and half as much again as the
// runner-up. Text mostly in a script that one language owns (Hangul, kana,
// Greek, ...) is told by its script. When nothing is clear the answer is
// "en", the language support answers undetected tickets in anyway.
func (idx stopIndex) detectLang(text string) string {
	if lang := scriptLang(text); lang != "" {
		return lang
	}
	score := map[string]float64{}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
	for _, w := range words {
		w = strings.Trim(w, "'")
		if langs := idx[w]; len(langs) > 0 {
			for _, l := range langs {
				score[l] += 1 / float64(len(langs))
			}
		}
		for _, r := range w {
			if l := letterHint(r); l != "" {
				score[l] += 0.5
				break
			}
		}
	}
	best, first, second := "", 0.0, 0.0
	for lang, s := range score {
		switch {
		case s > first || (s == first && lang < best):
			best, first, second = lang, s, max(first, second)
		case s > second:
			second = s
		}
	}
	if first >= 2 && first >= 1.5*second {
		return best
	}
	return "en"
}

// scriptLang returns the language of text written mostly (over half its
// letters) in a script a single language owns, or "".
func scriptLang(text string) string {
	var letters, latin int
	count := map[string]int{}
	for _, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		switch {
		case unicode.Is(unicode.Latin, r):
			latin++
		case unicode.Is(unicode.Hangul, r):
			count["ko"]++
		case unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r):
			count["ja"]++
		case unicode.Is(unicode.Han, r):
			count["zh"]++ // Japanese mixes Han with kana; see below
		case unicode.Is(unicode.Greek, r):
			count["el"]++
		case unicode.Is(unicode.Hebrew, r):
			count["he"]++
		case unicode.Is(unicode.Thai, r):
			count["th"]++
		case unicode.Is(unicode.Arabic, r):
			count["ar"]++
		case strings.ContainsRune("іїєґІЇЄҐ", r):
			count["uk"]++
			count["ru"]++
		case unicode.Is(unicode.Cyrillic, r):
			count["ru"]++
		}
	}
	if letters == 0 || latin*2 >= letters {
		return ""
	}
	if count["ja"] > 0 {
		count["ja"] += count["zh"]
	}
	if count["uk"] > 0 {
		count["uk"] = count["ru"]
	}
	for _, lang := range []string{"ja", "uk", "ko", "zh", "el", "he", "th", "ar", "ru"} {
		if count[lang]*2 > letters {
			return lang
		}
	}
	return ""
}
