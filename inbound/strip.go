package inbound

import (
	"regexp"
	"strings"
)

// The reply headers ("attributions") mail clients write above the quoted
// history, in English, German, French and Czech. Each is matched against
// one line, or two or three lines joined (clients wrap long ones).
var attributions = []*regexp.Regexp{
	// Gmail, Apple Mail, Thunderbird: "On Mon, 1 Dec 2026 at 10:00, Name <a@b> wrote:"
	regexp.MustCompile(`(?i)^on\b.{4,300}\bwrote\s?:$`),
	// "Am Mo., 1. Dez. 2026 um 10:00 Uhr schrieb Name <a@b>:", "Am 01.12.26 um 10:00 schrieb Name:"
	regexp.MustCompile(`(?i)^am\b.{4,300}\bschrieb\b.{0,300}:$`),
	// "Le lun. 1 déc. 2026 à 10:00, Name <a@b> a écrit :"
	regexp.MustCompile(`(?i)^le\b.{4,300}\ba\s+écrit\s?:$`),
	// "Dne 01. 12. 26 v 10:00 Name napsal(a):", Gmail's "po 1. 12. 2026 v 10:00 odesílatel Name <a@b> napsal:"
	regexp.MustCompile(`(?i)^dne\b.{4,300}\bnapsal(a|\(a\))?\s?:$`),
	regexp.MustCompile(`(?i)^.{0,40}\d{4}.{0,40}\bodesílatel\b.{1,300}\bnapsal(a|\(a\))?\s?:$`),
	// Apple Mail in Czech: "1. 12. 2026 v 10:00, Name <a@b>:"
	regexp.MustCompile(`(?i)^\d{1,2}\.\s?\d{1,2}\.\s?\d{4}\s+v\s+\d{1,2}:\d{2},\s.{1,300}:$`),
	// Any language: a date or time, then the author's address and a colon
	// ("2026-12-01 10:00 GMT+01:00 Name <a@b>:", "1.12.2026, 10.00, Name <a@b>:").
	regexp.MustCompile(`^.{0,200}\d.{0,200}<[^<>\s]+@[^<>\s]+>\s?:$`),
}

// Separators that start quoted or forwarded history on their own line.
var separators = regexp.MustCompile(`(?i)^(` +
	`-{2,}\s*(original message|ursprüngliche nachricht|originalnachricht|message d'origine|message original|původní zpráva|originální zpráva)\s*-{2,}` +
	`|-{2,}\s*(forwarded message|weitergeleitete nachricht|message transféré|přeposlaná zpráva)\s*-{2,}` +
	`|begin forwarded message:|anfang der weitergeleiteten nachricht:|début du message réexpédié\s?:|začátek přeposílané zprávy:` +
	`|_{20,}` +
	`)$`)

// Outlook's header block: "From: … Sent: … To: … Subject: …" and its
// translations (Outlook for Mac writes "Date:").
var (
	outlookFrom    = regexp.MustCompile(`(?i)^\*?(from|von|de|od)\s?:\*?\s?\S`)
	outlookSent    = regexp.MustCompile(`(?i)^\*?(sent|date|gesendet|datum|envoyé|envoyé le|odesláno)\s?:\*?\s?\S`)
	outlookSubject = regexp.MustCompile(`(?i)^\*?(subject|betreff|objet|předmět)\s?:\*?`)
)

// Footers that mobile mail apps append.
var mobileFooter = regexp.MustCompile(`(?i)^(` +
	`sent from my .{1,60}|sent from (outlook|mail|yahoo mail|samsung).{0,60}|get outlook for .{1,40}|sent via .{1,40}` +
	`|von meinem .{1,60} gesendet|gesendet (von|mit) .{1,60}|von outlook für .{1,40} gesendet|outlook für .{1,30} beziehen` +
	`|envoyé de mon .{1,60}|envoyé (depuis|à partir de) .{1,60}|obtenir outlook pour .{1,40}|télécharger outlook pour .{1,40}` +
	`|odesláno z (mého |aplikace )?.{1,60}|získat outlook pro .{1,40}` +
	`)$`)

// strip returns the new text of a plain-text body: the quoted history (the
// reply header, or separator, and everything below it), trailing quoted
// lines and the signature removed. htmlBody, when the mail has one, lends
// its structure: the first lines of its quote and signature elements mark
// where to cut the plain text when the text alone does not tell.
// A body that would be stripped to nothing (a bare forward) is kept whole.
func strip(body, htmlBody string) string {
	lines := strings.Split(body, "\n")
	cut := quoteStart(lines)
	if htmlBody != "" {
		quotes, signatures := htmlMarkers(htmlBody)
		if c := markerCut(lines[:cut], quotes, false); c >= 0 {
			cut = c
		}
		// A signature's first line may also end the text ("Jan" above a
		// signature "Jan"): the last such line is the signature's.
		if c := markerCut(lines[:cut], signatures, true); c >= 0 {
			cut = c
		}
	}
	if !hasNewText(lines[:cut]) && cut < len(lines) && isAttribution(lines, cut) {
		if text := bottomPosted(lines[cut:]); text != "" {
			return text
		}
	}
	lines = lines[:cut]
	lines = dropTrailingQuotes(lines)
	lines = dropSignature(lines)
	text := tidy(strings.Join(lines, "\n"))
	if strings.TrimSpace(text) == "" {
		return tidy(body)
	}
	return text
}

// nbsp turns the no-break spaces that French typography puts before
// colons ("De :", "a écrit :") into plain ones.
var nbsp = strings.NewReplacer("\u00a0", " ", "\u202f", " ")

// line is a line as the patterns read it: trimmed, with plain spaces.
func line(l string) string {
	return strings.TrimSpace(nbsp.Replace(l))
}

// hasNewText says whether any line is neither blank nor quoted.
func hasNewText(lines []string) bool {
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, ">") {
			return true
		}
	}
	return false
}

// isAttribution says whether the history starting at lines[i] opens with a
// reply header (rather than a separator or Outlook's header block, which
// nobody writes below).
func isAttribution(lines []string, i int) bool {
	return !separators.MatchString(line(lines[i])) && !outlookHeader(lines, i)
}

// bottomPosted returns the new text of a reply written below the quote
// (rest starts at the reply header): the header is dropped, and so is the
// quote above the answer when it is the only one; an answer interleaved
// with quotes keeps them, as the context of each answer.
func bottomPosted(rest []string) string {
	i := 1
	for i < len(rest) && i <= 3 && !strings.HasPrefix(strings.TrimSpace(rest[i]), ">") && strings.TrimSpace(rest[i]) != "" {
		i++ // the rest of a wrapped reply header
	}
	body := rest[i:]
	body = dropTrailingQuotes(body)
	start := 0
	for start < len(body) && (strings.TrimSpace(body[start]) == "" || strings.HasPrefix(strings.TrimSpace(body[start]), ">")) {
		start++
	}
	interleaved := false
	for _, l := range body[start:] {
		if strings.HasPrefix(strings.TrimSpace(l), ">") {
			interleaved = true
			break
		}
	}
	if !interleaved {
		body = body[start:]
	}
	body = dropSignature(body)
	if !hasNewText(body) {
		return ""
	}
	return tidy(strings.Join(body, "\n"))
}

// quoteStart is the index of the first line of the quoted history, or
// len(lines).
func quoteStart(lines []string) int {
	for i := range lines {
		l := line(lines[i])
		if l == "" || strings.HasPrefix(l, ">") {
			continue
		}
		if separators.MatchString(l) {
			return i
		}
		if outlookHeader(lines, i) {
			return i
		}
		// Attributions wrapped over up to three lines.
		joined := l
		for k := 0; k < 3 && i+k < len(lines); k++ {
			if k > 0 {
				next := line(lines[i+k])
				if next == "" || strings.HasPrefix(next, ">") && !wrapRemnant(next) {
					break
				}
				joined += " " + next
			}
			if !strings.HasSuffix(joined, ":") || len(joined) > 400 {
				continue // every reply header ends with a colon, and is short
			}
			for _, re := range attributions {
				if re.MatchString(joined) {
					return i
				}
			}
		}
	}
	return len(lines)
}

// wrapRemnant says whether a line that starts with ">" is really the end
// of a reply header Gmail wrapped inside the address ("<a@b" / "> wrote:").
func wrapRemnant(l string) bool {
	return len(l) <= 24 && strings.HasSuffix(l, ":") && strings.HasPrefix(l, ">") && !strings.HasPrefix(l, ">>")
}

// outlookHeader says whether lines[i] opens Outlook's header block: a From
// line followed, within five lines, by a Sent (or Date) and a Subject line.
func outlookHeader(lines []string, i int) bool {
	if !outlookFrom.MatchString(line(lines[i])) {
		return false
	}
	sent, subject := false, false
	for k := i + 1; k < len(lines) && k <= i+6; k++ {
		l := line(lines[k])
		sent = sent || outlookSent.MatchString(l)
		subject = subject || outlookSubject.MatchString(l)
	}
	return sent && subject
}

// dropTrailingQuotes removes the lines starting with ">" at the end (with
// the blank lines among them); quotes between new lines (an inline reply)
// stay.
func dropTrailingQuotes(lines []string) []string {
	end := len(lines)
	for end > 0 {
		l := strings.TrimSpace(lines[end-1])
		if l == "" || strings.HasPrefix(l, ">") {
			end--
			continue
		}
		break
	}
	// Only quote lines (not mere blank ones) make a trailing quote.
	quoted := false
	for _, l := range lines[end:] {
		quoted = quoted || strings.HasPrefix(strings.TrimSpace(l), ">")
	}
	if !quoted {
		return lines
	}
	// The line above a trailing quote that ends in a colon and names an
	// address or a time is its reply header, in whatever language.
	if end > 0 {
		prev := line(lines[end-1])
		if first := line(lines[end]); first != "" && wrapRemnant(first) {
			prev += " " + first
		}
		if looseAttribution.MatchString(prev) {
			end--
		}
	}
	return lines[:end]
}

// looseAttribution is a reply header in a language the patterns above do
// not know: short, ending in a colon, with an address or a time in it.
var looseAttribution = regexp.MustCompile(`^.{0,200}(@|\d{1,2}:\d{2}).{0,200}:$`)

// dropSignature removes an RFC 3676 signature ("-- " line and below; a
// bare "--" counts when few lines follow it) and mobile footers.
func dropSignature(lines []string) []string {
	for i, l := range lines {
		if i == 0 {
			continue
		}
		if l == "-- " || (strings.TrimRight(l, " ") == "--" && len(lines)-i <= 12) {
			lines = lines[:i]
			break
		}
	}
	for {
		end := len(lines)
		for end > 0 && strings.TrimSpace(lines[end-1]) == "" {
			end--
		}
		if end == 0 || !mobileFooter.MatchString(line(lines[end-1])) {
			return lines[:end]
		}
		lines = lines[:end-1]
	}
}

// markerCut finds where the plain text's quote or signature starts, by the
// first lines of the HTML's quote or signature elements: the first (or, if
// last, the last) line equal to a marker, spacing and quote marks aside,
// after some text. It returns -1 when no marker is found.
func markerCut(lines []string, markers []string, last bool) int {
	if len(markers) == 0 {
		return -1
	}
	want := map[string]bool{}
	for _, m := range markers {
		if m = normLine(m); len(m) >= 3 {
			want[m] = true
		}
	}
	found := -1
	seenText := false
	for i, l := range lines {
		n := normLine(l)
		if seenText && want[n] {
			if !last {
				return i
			}
			found = i
		}
		if n != "" {
			seenText = true
		}
	}
	return found
}

// normLine reduces a line to its words, for comparing the HTML's rendering
// of a line with the plain text's.
func normLine(l string) string {
	l = strings.TrimLeft(strings.TrimSpace(l), "> ")
	l = strings.ReplaceAll(l, "*", "")
	return strings.Join(strings.Fields(l), " ")
}
