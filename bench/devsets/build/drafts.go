package main

import (
	"hash/fnv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The parts a ticket carries around the problem itself. The choice among
// them is a hash of the draft's key, so that a rebuild gives the same drafts
// and adding a page does not reshuffle the others.
var (
	greetings = []string{"Hi,", "Hello support team,", "Dear support,", "Hi there!", "Good morning,", "Hello,", ""}
	contexts  = []string{
		"We started seeing this after yesterday's update.",
		"This is blocking our whole team.",
		"I searched the docs but could not find anything.",
		"It worked fine on my old machine.",
		"Not sure if this is a bug or if I'm doing something wrong.",
		"Please help, it's urgent.",
		"I'm fairly new to this, sorry if it's obvious.",
		"",
	}
	signatures = []string{"Thanks in advance, Anna", "Best regards, Jan Novak", "Thank you!", "Cheers, Mike", "Kind regards, Sophie Martin", "Thanks, Priya", ""}
)

// pick chooses one of list by a hash of key and part.
func pick(list []string, key, part string) string {
	h := fnv.New32a()
	h.Write([]byte(key + "\x00" + part))
	return list[h.Sum32()%uint32(len(list))]
}

// wrap builds a ticket from its core: a greeting, the problem, a context
// sentence and a signature, each part possibly empty.
func wrap(key, problem string) string {
	parts := []string{pick(greetings, key, "greeting"), problem, pick(contexts, key, "context"), pick(signatures, key, "signature")}
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, " ")
}

// twoNeeds joins two task descriptions ("Extract an archive", "List the
// files") the ways people write them in one ticket.
func twoNeeds(key, a, b string) string {
	a, b = strings.TrimRight(a, ".:"), strings.TrimRight(b, ".:")
	switch pick([]string{"how", "need", "also", "plain"}, key, "frame") {
	case "how":
		return "How do I " + lowerFirst(a) + "? And how can I " + lowerFirst(b) + "?"
	case "need":
		return "I need to " + lowerFirst(a) + " and to " + lowerFirst(b) + "."
	case "also":
		return "Is there a way to " + lowerFirst(a) + "? Also I would like to " + lowerFirst(b) + "."
	default:
		return a + ". " + b + "."
	}
}

// lowerFirst lowercases a sentence's first letter unless the word is an
// acronym or a name written with capitals inside ("SSH", "PostgreSQL").
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	word, _, _ := strings.Cut(s, " ")
	for _, c := range word[n:] {
		if unicode.IsUpper(c) {
			return s
		}
	}
	return string(unicode.ToLower(r)) + s[n:]
}
