package inbound

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	htmlcharset "golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"
)

// Limits on the MIME tree, so that a crafted mail cannot make Parse recurse
// or allocate without end; real mails stay far below them.
const (
	maxDepth = 16
	maxParts = 500
)

// malformed builds Parse's error for an unreadable mail: it wraps both
// ErrMalformed and ErrRefused, since such a mail will never become readable.
func malformed(format string, args ...any) error {
	return fmt.Errorf("inbound: %s: %w (%w)", fmt.Sprintf(format, args...), ErrMalformed, ErrRefused)
}

// Parse reads a raw RFC 5322 message; envelopeFrom is the SMTP MAIL FROM
// (the Return-Path from IMAP), "" or "<>" for the null sender of bounces.
//
// A mail larger than MaxSize fails with an error wrapping ErrRefused; one
// that cannot be read (no header, no From address, a broken MIME structure
// or transfer encoding) with one wrapping ErrMalformed and ErrRefused, saying
// what was wrong. Parse is lenient where a mail stays readable: a Date it
// cannot parse is left zero, an unknown charset is read as Windows-1252.
func Parse(raw []byte, envelopeFrom string) (Mail, error) {
	m, _, err := parse(raw, envelopeFrom)
	return m, err
}

// parse is Parse, also returning the bodies it read (for tests).
func parse(raw []byte, envelopeFrom string) (Mail, *walker, error) {
	if len(raw) > MaxSize {
		return Mail{}, nil, fmt.Errorf("inbound: mail of %d bytes is larger than the %d allowed: %w", len(raw), MaxSize, ErrRefused)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return Mail{}, nil, malformed("empty mail")
	}
	br := bufio.NewReader(bytes.NewReader(raw))
	th, err := textproto.ReadHeader(br)
	if err != nil {
		return Mail{}, nil, malformed("header: %v", err)
	}
	h := mail.Header{Header: message.Header{Header: th}}

	var m Mail
	if err := readHeader(&m, h); err != nil {
		return Mail{}, nil, err
	}

	w := walker{}
	if err := w.walk(h.Header, br, 0); err != nil {
		return Mail{}, nil, err
	}
	plain, htmlBody := w.plain(), w.html()
	lowerHTML := strings.ToLower(htmlBody)
	for i, cid := range w.cids {
		if cid != "" && strings.Contains(lowerHTML, "cid:"+cid) {
			w.atts[i].Inline = true
		}
	}
	m.Attachments = w.atts
	switch {
	case strings.TrimSpace(plain) != "":
		m.FullText = strings.TrimSpace(plain)
		m.Text = strip(plain, htmlBody)
	case strings.TrimSpace(htmlBody) != "":
		m.Text, m.FullText = stripHTML(htmlBody)
	}
	m.Auto = autoReason(h, m.From, m.Subject, envelopeFrom)
	return m, &w, nil
}

// readHeader fills the header fields of m.
func readHeader(m *Mail, h mail.Header) error {
	from, err := addressList(h, "From")
	if err != nil {
		return err
	}
	if len(from) == 0 {
		return malformed("From: no address")
	}
	m.From, m.FromName = from[0].Address, from[0].Name
	if rt, err := addressList(h, "Reply-To"); err == nil && len(rt) > 0 {
		m.ReplyTo = rt[0].Address
	}
	// A To or Cc too broken to read costs its addresses, not the mail: the
	// transport knows the envelope recipient anyway.
	for _, k := range []string{"To", "Cc"} {
		as, _ := addressList(h, k)
		for _, a := range as {
			m.To = append(m.To, a.Address)
		}
	}
	// Subject decodes RFC 2047 words; with an unknown charset it returns the
	// raw text, which is still better than nothing.
	m.Subject, _ = h.Subject()
	m.Subject = cleanLine(m.Subject)
	if ids := msgIDs(h.Get("Message-Id")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	if ids := msgIDs(h.Get("In-Reply-To")); len(ids) > 0 {
		m.InReplyTo = ids[0]
	}
	m.References = msgIDs(h.Get("References"))
	m.AuthResults = strings.Join(strings.Fields(h.Get("Authentication-Results")), " ")
	for _, v := range h.Values("X-Loop") {
		if v = strings.TrimSpace(v); v != "" {
			m.XLoop = append(m.XLoop, v)
		}
	}
	// A Date the mail gets wrong is not worth refusing a customer's mail:
	// it stays zero and the caller uses the time of receipt.
	if d, err := h.Date(); err == nil {
		m.Date = d
	}
	return nil
}

var angleAddr = regexp.MustCompile(`<([^<>\s@]+@[^<>\s@]+)>`)

// addressList reads an address header. Where the strict RFC 5322 parser
// fails (unquoted commas or dots in names are common), the addresses in
// angle brackets still count; with none, the field is malformed.
func addressList(h mail.Header, key string) ([]*mail.Address, error) {
	if !h.Has(key) {
		return nil, nil
	}
	as, err := h.AddressList(key)
	if err != nil {
		raw := h.Get(key)
		ms := angleAddr.FindAllStringSubmatch(raw, -1)
		if len(ms) == 0 {
			if a := strings.TrimSpace(raw); isBareAddress(a) {
				ms = [][]string{{a, a}}
			} else {
				return nil, malformed("%s: %v", key, err)
			}
		}
		as = nil
		for _, mm := range ms {
			as = append(as, &mail.Address{Address: mm[1]})
		}
		if len(as) == 1 {
			// "Novák, Jan (IT) <jan@…>": the name is what stands before.
			if i := strings.IndexByte(raw, '<'); i > 0 {
				name := strings.Trim(strings.TrimSpace(raw[:i]), `"`)
				if dec, err := wordDecoder.DecodeHeader(name); err == nil {
					name = dec
				}
				as[0].Name = name
			}
		}
	}
	valid := as[:0]
	for _, a := range as {
		if !utf8.ValidString(a.Address) || strings.ContainsFunc(a.Address, unicode.IsControl) {
			continue // raw bytes no mailbox can have
		}
		a.Address = lowerDomain(a.Address)
		a.Name = cleanLine(a.Name)
		valid = append(valid, a)
	}
	if len(valid) == 0 && len(as) > 0 {
		return nil, malformed("%s: address is not UTF-8 text", key)
	}
	return valid, nil
}

func isBareAddress(s string) bool {
	return strings.Count(s, "@") == 1 && !strings.ContainsAny(s, " \t<>,;\"")
}

// lowerDomain lower-cases the domain of an address; the local part is the
// receiving server's business (RFC 5321 leaves its case significant).
func lowerDomain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr
	}
	return addr[:i+1] + strings.ToLower(addr[i+1:])
}

var msgIDRe = regexp.MustCompile(`<[^<>\s]+>`)

// msgIDs returns the message identifiers of a Message-ID, In-Reply-To or
// References field, with their angle brackets. Comments and other noise
// between them are skipped; one bare identifier without brackets (some
// mailers write them) is taken too.
func msgIDs(v string) []string {
	ids := msgIDRe.FindAllString(v, -1)
	if len(ids) == 0 {
		if s := strings.TrimSpace(v); s != "" && strings.Contains(s, "@") && !strings.ContainsAny(s, " \t<>") {
			ids = []string{"<" + s + ">"}
		}
	}
	return ids
}

// cleanLine drops control characters from a one-line header value; raw
// 8-bit bytes that are not UTF-8 (old mailers send Latin-1 unencoded) are
// read as Windows-1252.
func cleanLine(s string) string {
	if !utf8.ValidString(s) {
		b, _ := charmap.Windows1252.NewDecoder().Bytes([]byte(s))
		s = string(b)
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// walker collects the body and attachments of a MIME tree.
type walker struct {
	plains, htmls []string // body parts, in order
	atts          []Attachment
	cids          []string // the atts' Content-IDs, lower-case, no brackets
	parts         int
}

// plain is the plain-text body: its parts joined by a blank line.
func (w *walker) plain() string {
	var parts []string
	for _, p := range w.plains {
		if p = strings.Trim(p, "\n"); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "\n\n")
}

// html is the HTML body: its parts one after the other.
func (w *walker) html() string { return strings.Join(w.htmls, "") }

// walk reads one entity: header h, body r (still transfer-encoded).
func (w *walker) walk(h message.Header, r io.Reader, depth int) error {
	w.parts++
	if depth > maxDepth || w.parts > maxParts {
		return malformed("MIME tree deeper than %d or more than %d parts", maxDepth, maxParts)
	}
	mt, params, err := h.ContentType()
	if err != nil {
		mt, params = lenientContentType(h.Get("Content-Type"))
	}
	if strings.HasPrefix(mt, "multipart/") {
		return w.walkMultipart(mt, params, r, depth)
	}
	disp, dparams, _ := h.ContentDisposition()
	name := filename(h, dparams, params)
	isBody := (mt == "text/plain" || mt == "text/html") && disp != "attachment" && name == ""
	if isBody {
		text, err := decodeText(h, r, mt, params["charset"])
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return err
		}
		if mt == "text/plain" && strings.EqualFold(params["format"], "flowed") {
			text = unflow(text, strings.EqualFold(params["delsp"], "yes"))
		}
		// A second body part of the same type (Apple Mail splits the text
		// around an inline attachment) continues the first.
		if mt == "text/plain" {
			w.plains = append(w.plains, text)
		} else {
			w.htmls = append(w.htmls, text)
		}
		return nil
	}
	data, err := decodeTransfer(h, r)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// Cut short by the end of the mail: the text before it is kept,
		// half a file is not.
		return nil
	}
	if err != nil {
		return malformed("attachment %q: %v", name, err)
	}
	if name == "" {
		name = defaultName(mt)
	}
	w.atts = append(w.atts, Attachment{Name: name, ContentType: mt, Data: data, Inline: disp == "inline"})
	w.cids = append(w.cids, strings.ToLower(strings.Trim(strings.TrimSpace(h.Get("Content-Id")), "<>")))
	return nil
}

var boundaryRe = regexp.MustCompile(`(?i);\s*boundary\s*=\s*("([^"]+)"|([^;\s]+))`)

// lenientContentType reads a Content-Type that the strict parser refused:
// a multipart one by its type and boundary (unquoted boundaries with "=" are
// common), anything else as text/plain, as RFC 2045 5.2 says.
func lenientContentType(v string) (string, map[string]string) {
	mt, _, _ := strings.Cut(v, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if strings.HasPrefix(mt, "multipart/") {
		if m := boundaryRe.FindStringSubmatch(v); m != nil {
			return mt, map[string]string{"boundary": m[2] + m[3]}
		}
		return mt, map[string]string{}
	}
	return "text/plain", map[string]string{}
}

// walkMultipart reads the parts of a multipart entity. Of a
// multipart/alternative it keeps the plain text and the HTML version (both
// feed the stripping); every other kind (mixed, related, report, signed)
// contributes all its parts.
func (w *walker) walkMultipart(mt string, params map[string]string, r io.Reader, depth int) error {
	boundary := params["boundary"]
	if boundary == "" {
		return malformed("%s without a boundary", mt)
	}
	mr := textproto.NewMultipartReader(r, boundary)
	alt := mt == "multipart/alternative"
	read := 0
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && read == 0 {
			return malformed("%s: no part starts with boundary %q", mt, boundary)
		}
		if err != nil {
			// The closing boundary is missing: the parts read are kept.
			return nil
		}
		read++
		if !alt {
			if err := w.walk(message.Header{Header: p.Header}, p, depth+1); err != nil {
				return err
			}
			continue
		}
		// Each alternative is read on its own; the first plain text and the
		// last HTML win (RFC 2046 orders alternatives plainest first).
		sub := walker{parts: w.parts}
		if err := sub.walk(message.Header{Header: p.Header}, p, depth+1); err != nil {
			return err
		}
		w.parts = sub.parts
		if len(w.plains) == 0 {
			w.plains = sub.plains
		}
		if len(sub.htmls) > 0 {
			w.htmls = sub.htmls
		}
		w.atts = append(w.atts, sub.atts...)
	}
}

// filename is the attachment's name (RFC 2231 and RFC 2047 decoded by
// go-message), from Content-Disposition or else Content-Type's name, reduced
// to a base name without control characters.
func filename(h message.Header, dparams, params map[string]string) string {
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if name == "" {
		// Go's MIME parser reads RFC 2231 values only in UTF-8 and ASCII;
		// Czech mailers send them in ISO-8859-2 or Windows-1250.
		name = rfc2231(h.Get("Content-Disposition"), "filename")
		if name == "" {
			name = rfc2231(h.Get("Content-Type"), "name")
		}
	}
	if name == "" {
		return ""
	}
	if dec, err := wordDecoder.DecodeHeader(name); err == nil {
		name = dec
	}
	name = strings.ReplaceAll(name, `\`, "/")
	name = cleanLine(path.Base(name))
	if name == "." || name == "/" || name == ".." {
		return ""
	}
	return name
}

// defaultName names an attachment that has none: a forwarded mail, a
// bounce's delivery status, a pasted picture.
func defaultName(mt string) string {
	switch mt {
	case "message/rfc822", "message/global":
		return "message.eml"
	case "message/delivery-status", "message/global-delivery-status":
		return "delivery-status.txt"
	case "text/rfc822-headers", "message/rfc822-headers":
		return "headers.txt"
	}
	ext, ok := extensions[mt]
	if !ok {
		if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
			ext = exts[0]
		}
	}
	return "attachment" + ext
}

// extensions are the usual ones where mime.ExtensionsByType lists a rarer
// one first.
var extensions = map[string]string{
	"text/plain": ".txt", "text/html": ".html", "image/jpeg": ".jpg", "image/png": ".png",
	"image/gif": ".gif", "application/pdf": ".pdf", "application/octet-stream": "",
}

var rfc2231Re = regexp.MustCompile(`(?i)(?:^|;)\s*([a-z]+)\*(?:(\d+)\*?|)\s*=\s*("[^"]*"|[^;\s]*)`)

// rfc2231 decodes the RFC 2231 parameter key (name*=charset”%xx, or its
// numbered sections name*0*=, name*1*=) in any charset go-message knows.
func rfc2231(field, key string) string {
	var sb strings.Builder
	cs := ""
	for _, m := range rfc2231Re.FindAllStringSubmatch(field, -1) {
		if !strings.EqualFold(m[1], key) {
			continue
		}
		v := strings.Trim(m[3], `"`)
		if m[2] == "" || m[2] == "0" {
			parts := strings.SplitN(v, "'", 3)
			if len(parts) != 3 {
				return ""
			}
			cs, v = parts[0], parts[2]
		}
		dec, err := url.PathUnescape(v)
		if err != nil {
			return ""
		}
		sb.WriteString(dec)
	}
	if sb.Len() == 0 || cs == "" {
		return ""
	}
	r, err := charset.Reader(strings.ToLower(cs), strings.NewReader(sb.String()))
	if err != nil {
		return ""
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return ""
	}
	return string(b)
}

// decodeTransfer undoes the Content-Transfer-Encoding. go-message decodes
// it in message.New; the Content-Type is hidden from it so that it does not
// convert the charset of a text attachment, whose bytes stay as sent.
//
// An unknown encoding ("8bits", "x-uuencode") leaves the bytes as they are.
// A part cut short by the end of the mail (no closing boundary) returns
// what arrived with io.ErrUnexpectedEOF.
func decodeTransfer(h message.Header, r io.Reader) ([]byte, error) {
	hh := h.Copy()
	hh.Set("Content-Type", "application/octet-stream")
	e, err := message.New(hh, r)
	if err != nil && !message.IsUnknownEncoding(err) {
		return nil, err
	}
	return io.ReadAll(e.Body)
}

// decodeText reads a text body part as UTF-8 with "\n" line ends. A part
// that declares no charset, or one unknown, is read as UTF-8 when it is
// valid UTF-8, else by the HTML's own <meta charset>, else as Windows-1252
// (the superset of Latin-1 that mislabelled Western mail uses).
func decodeText(h message.Header, r io.Reader, mt, cs string) (string, error) {
	data, err := decodeTransfer(h, r)
	truncated := errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil && !truncated {
		return "", malformed("%s body: %v", mt, err)
	}
	cs = strings.ToLower(strings.TrimSpace(cs))
	var text string
	switch {
	case cs == "" || cs == "us-ascii" || cs == "utf-8" || cs == "utf8" || cs == "unknown-8bit":
		text = fallbackDecode(data, mt)
	default:
		cr, err := charset.Reader(cs, bytes.NewReader(data))
		if err != nil {
			text = fallbackDecode(data, mt)
			break
		}
		b, err := io.ReadAll(cr)
		if err != nil {
			return "", malformed("%s body in %s: %v", mt, cs, err)
		}
		text = string(b)
	}
	if truncated {
		return cleanText(text), io.ErrUnexpectedEOF
	}
	return cleanText(text), nil
}

func fallbackDecode(data []byte, mt string) string {
	if utf8.Valid(data) {
		return string(data)
	}
	if mt == "text/html" {
		if enc, name, _ := htmlcharset.DetermineEncoding(data, "text/html"); name != "windows-1252" {
			if b, err := enc.NewDecoder().Bytes(data); err == nil {
				return string(b)
			}
		}
	}
	b, _ := charmap.Windows1252.NewDecoder().Bytes(data)
	return string(b)
}

// cleanText normalises line ends to "\n" and drops control characters other
// than tab and newline (and the byte-order mark).
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\ufeff' || r == utf8.RuneError:
			return -1
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// unflow joins the soft line breaks of RFC 3676 format=flowed text (as
// Thunderbird sends it): a line ending in a space continues on the next line
// of the same quote depth. Space-stuffing is undone; quoted lines come out
// as "> " lines; the "-- " signature separator stays a line of its own.
func unflow(s string, delSp bool) string {
	var out strings.Builder
	prevFlowed, prevDepth := false, -1
	for i, l := range strings.Split(s, "\n") {
		depth := 0
		for depth < len(l) && l[depth] == '>' {
			depth++
		}
		content := strings.TrimPrefix(l[depth:], " ")
		flowed := strings.HasSuffix(content, " ") && content != "-- "
		if flowed && delSp {
			content = content[:len(content)-1]
		}
		if !(prevFlowed && depth == prevDepth) {
			if i > 0 {
				out.WriteByte('\n')
			}
			if depth > 0 {
				out.WriteString(strings.Repeat(">", depth) + " ")
			}
		}
		out.WriteString(content)
		prevFlowed, prevDepth = flowed, depth
	}
	return out.String()
}

// wordDecoder decodes RFC 2047 words in every charset go-message knows
// (the standard library's alone knows UTF-8 and ISO-8859-1).
var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}
