package inbound

import (
	"strings"
	"testing"
)

// Each quoting format and signature alone, on plain text, and the cases
// where stripping must hold back.
func TestStrip(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"gmail en", "Yes, that works.\n\nOn Mon, 1 Dec 2026 at 10:00, Support <s@x.example> wrote:\n\n> Does it work?\n", "Yes, that works."},
		{"gmail en us", "Yes.\n\nOn Mon, Dec 1, 2026 at 10:00 AM Support <s@x.example> wrote:\n> Q\n", "Yes."},
		{"gmail wrapped over two lines", "Yes.\n\nOn Mon, 1 Dec 2026 at 10:00, Orbitask Support <\nsupport+1001.abc@support.orbitask.example> wrote:\n\n> Q\n", "Yes."},
		{"gmail de", "Ja.\n\nAm Mo., 1. Dez. 2026 um 10:00 Uhr schrieb Support <s@x.example>:\n> Frage\n", "Ja."},
		{"gmail fr", "Oui.\n\nLe lun. 1 déc. 2026 à 10:00, Support <s@x.example> a écrit :\n> Question\n", "Oui."},
		{"gmail cs", "Ano.\n\npo 1. 12. 2026 v 10:00 odesílatel Podpora <s@x.example> napsal:\n> Otázka\n", "Ano."},
		{"gmail cs dne", "Ano.\n\nDne po 1. 12. 2026 10:00 uživatel Podpora <s@x.example> napsal:\n> Otázka\n", "Ano."},
		{"apple en", "Yes.\n\n> On 1 Dec 2026, at 10:00, Support <s@x.example> wrote:\n> \n> Q\n", "Yes."},
		{"apple de unquoted", "Ja.\n\nAm 01.12.2026 um 10:00 schrieb Support <s@x.example>:\n\n> Frage\n", "Ja."},
		{"apple fr", "Oui.\n\nLe 1 déc. 2026 à 10:00, Support <s@x.example> a écrit :\n\n> Question\n", "Oui."},
		{"apple cs", "Ano.\n\n1. 12. 2026 v 10:00, Podpora <s@x.example>:\n\n> Otázka\n", "Ano."},
		{"thunderbird en", "Yes.\n\nOn 12/1/26 10:00, Support wrote:\n> Q\n", "Yes."},
		{"thunderbird de", "Ja.\n\nAm 01.12.26 um 10:00 schrieb Support:\n> Frage\n", "Ja."},
		{"thunderbird fr", "Oui.\n\nLe 01/12/2026 à 10:00, Support a écrit :\n> Question\n", "Oui."},
		{"thunderbird cs", "Ano.\n\nDne 01. 12. 26 v 10:00 Podpora napsal(a):\n> Otázka\n", "Ano."},
		{"outlook original message", "Yes.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n\nQ\n", "Yes."},
		{"outlook ursprüngliche nachricht", "Ja.\n\n-----Ursprüngliche Nachricht-----\nVon: Support\n\nFrage\n", "Ja."},
		{"outlook message d'origine", "Oui.\n\n-----Message d'origine-----\nDe : Support\n\nQuestion\n", "Oui."},
		{"outlook původní zpráva", "Ano.\n\n-----Původní zpráva-----\nOd: Podpora\n\nOtázka\n", "Ano."},
		{"outlook header block en", "Yes.\n\nFrom: Support <s@x.example>\nSent: Monday, December 1, 2026 10:00 AM\nTo: Jan <j@x.example>\nSubject: Q\n\nQ\n", "Yes."},
		{"outlook header block de", "Ja.\n\nVon: Support <s@x.example>\nGesendet: Montag, 1. Dezember 2026 10:00\nAn: Jan <j@x.example>\nBetreff: Frage\n\nFrage\n", "Ja."},
		{"outlook header block fr", "Oui.\n\nDe : Support <s@x.example>\nEnvoyé : lundi 1 décembre 2026 10:00\nÀ : Jan <j@x.example>\nObjet : Question\n\nQuestion\n", "Oui."},
		{"outlook header block cs", "Ano.\n\nOd: Podpora <s@x.example>\nOdesláno: pondělí 1. prosince 2026 10:00\nKomu: Jan <j@x.example>\nPředmět: Otázka\n\nOtázka\n", "Ano."},
		{"outlook fr with no-break spaces", "Oui.\n\nDe\u00a0: Support <s@x.example>\nEnvoyé\u00a0: lundi 1 décembre 2026 10:00\nÀ\u00a0: Jan\nObjet\u00a0: Question\n\nQuestion\n", "Oui."},
		{"gmail fr with a narrow no-break space", "Oui.\n\nLe lun. 1 déc. 2026 à 10:00, Support <s@x.example> a écrit\u202f:\n> Question\n", "Oui."},
		{"thunderbird de headers mode", "Ja.\n\n-------- Originalnachricht --------\nBetreff: Frage\n", "Ja."},
		{"thunderbird fr headers mode", "Oui.\n\n-------- Message original --------\nSujet : Question\n", "Oui."},
		{"outlook for mac", "Yes.\n\nFrom: Support <s@x.example>\nDate: Monday, 1 December 2026 at 10:00\nTo: Jan <j@x.example>\nSubject: Q\n\nQ\n", "Yes."},
		{"outlook underscore line", "Yes.\n\n________________________________\nFrom: Support\nSent: Monday\nTo: Jan\nSubject: Q\n\nQ\n", "Yes."},
		{"a From: line in the text is not a header block", "From: my colleague I heard it works.\nSubject: export\n", "From: my colleague I heard it works.\nSubject: export"},
		{"signature", "Yes.\n\nJan\n-- \nJan Novák\nAcme\n", "Yes.\n\nJan"},
		{"bare -- signature", "Yes.\n--\nJan Novák\n", "Yes."},
		{"-- far from the end is text", "a\n--\n" + strings.Repeat("line\n", 14), "a\n--\n" + strings.TrimSuffix(strings.Repeat("line\n", 14), "\n")},
		{"iphone", "Yes.\n\nSent from my iPhone\n", "Yes."},
		{"iphone de", "Ja.\n\nVon meinem iPhone gesendet\n", "Ja."},
		{"iphone fr", "Oui.\n\nEnvoyé de mon iPhone\n", "Oui."},
		{"iphone cs", "Ano.\n\nOdesláno z iPhonu\n", "Ano."},
		{"outlook mobile", "Yes.\n\nGet Outlook for Android\n", "Yes."},
		{"outlook mobile de", "Ja.\n\nVon Outlook für Android gesendet\n", "Ja."},
		{"outlook mobile fr", "Oui.\n\nObtenir Outlook pour iOS\n", "Oui."},
		{"android", "Yes.\n\nSent from my Galaxy\n", "Yes."},
		{"cs mobile", "Ano.\n\nOdesláno z mého telefonu Samsung\n", "Ano."},
		{"gmail wrapped inside the address", "Yes.\n\nOn Mon, 1 Dec 2026 at 10:00, Orbitask Support <support+1001.abc@support.orbitask.example\n> wrote:\n\n> Q\n", "Yes."},
		{"gmail wrapped inside the address, other language", "Ja.\n\ntir. 1. des. 2026 kl. 10:00 skrev Support <support+1001.abc@support.orbitask.example\n>:\n\n> Spørsmål\n", "Ja."},
		{"date and address without quote marks", "Ano.\n\n1.12.2026, 10.00, \"Podpora\" <s@x.example>:\n\nOtázka\n", "Ano."},
		{"outlook.com fr envoyé le", "Oui.\n\n   De : Support<mailto:s@x.example>\n   Envoyé le :lundi 1 décembre 2026 10:00\n   À : j@x.example\n   Objet :Question\n\nQuestion\n", "Oui."},
		{"dutch reply header", "Ja.\n\nOp ma 1 dec 2026 om 10:00 schreef Support <s@x.example>:\n\n> Vraag\n", "Ja."},
		{"spanish reply header", "Sí.\n\nEl lun, 1 dic 2026 a las 10:00, Support (<s@x.example>) escribió:\n> Pregunta\n", "Sí."},
		{"polish reply header", "Tak.\n\npon., 1 gru 2026 o 10:00 Support <s@x.example> napisał(a):\n> Pytanie\n", "Tak."},
		{"a colon line without quotes below stays", "The steps:\n1. open\n2. export at 10:00:\n", "The steps:\n1. open\n2. export at 10:00:"},
		{"trailing quotes", "Yes.\n\n> Q1\n> Q2\n", "Yes."},
		{"inline reply keeps its quotes", "> Does A work?\nYes.\n> And B?\nNo.\n\n> Thanks\n", "> Does A work?\nYes.\n> And B?\nNo."},
		{"bottom-posted", "On 12/1/26 10:00, Support wrote:\n> Does it work?\n\nYes, it does.\n\n-- \nJan\n", "Yes, it does."},
		{"bottom-posted interleaved", "On 12/1/26 10:00, Support wrote:\n> Does A work?\nYes.\n> And B?\nNo.\n", "> Does A work?\nYes.\n> And B?\nNo."},
		{"bare forward is kept whole", "---------- Forwarded message ---------\nFrom: Eva <e@x.example>\nDate: Mon, 1 Dec 2026\nSubject: Bug\n\nIt crashes.\n", "---------- Forwarded message ---------\nFrom: Eva <e@x.example>\nDate: Mon, 1 Dec 2026\nSubject: Bug\n\nIt crashes."},
		{"forward with a note", "See below.\n\n---------- Přeposlaná zpráva ---------\nOd: Eva\n\nPadá to.\n", "See below."},
		{"apple forward", "FYI\n\nBegin forwarded message:\n\nFrom: Eva\n", "FYI"},
		{"only quotes is kept whole", "> a\n> b\n", "> a\n> b"},
		{"text that merely mentions wrote:", "On Monday the export wrote: nothing at all, and I wonder why the file is empty\nand more text", "On Monday the export wrote: nothing at all, and I wonder why the file is empty\nand more text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := strip(c.body, ""); got != c.want {
				t.Errorf("strip =\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// The HTML structure of each client, without a plain-text twin.
func TestStripHTML(t *testing.T) {
	cases := []struct{ name, html, want string }{
		{"gmail quote and signature", `<div dir="ltr">Yes.<br><br><span class="gmail_signature_prefix">-- </span><br><div class="gmail_signature">Jan</div></div><br><div class="gmail_quote"><div class="gmail_attr">Someone wrote:</div><blockquote class="gmail_quote">Q</blockquote></div>`, "Yes."},
		{"gmail old blockquote", `<div>Yes.</div><blockquote class="gmail_quote">Q</blockquote>`, "Yes."},
		{"outlook desktop", `<div class="WordSection1"><p class="MsoNormal">Yes.<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p><p class="MsoNormal"><a name="_MailAutoSig">Jan Novák</a></p><div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal"><b>From:</b> Support</p></div></div><p class="MsoNormal">Q</p></div>`, "Yes."},
		{"outlook 2010", `<p class="MsoNormal">Yes.</p><div style="border:none;border-top:solid #B5C4DF 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal"><b>Von:</b> Support</p></div><p>Q</p>`, "Yes."},
		{"outlook web", `<div>Yes.</div><div id="Signature"><div>Jan</div></div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> Support</div><div>Q</div>`, "Yes."},
		{"outlook web quoting itself", `<div>Yes.</div><div id="x_divRplyFwdMsg"><b>From:</b> Support</div><div>Q</div>`, "Yes."},
		{"new outlook for mac", `<div>Yes.</div><div id="mail-editor-reference-message-container"><div><b>From: </b>Support</div><div>Q</div></div>`, "Yes."},
		{"yahoo", `<div>Yes.</div><div class="yahoo_quoted"><div>On Monday, Support wrote:</div><div>Q</div></div>`, "Yes."},
		{"proton", `<div>Yes.</div><div class="protonmail_signature_block">Jan</div><div class="protonmail_quote">Q</div>`, "Yes."},
		{"apple mail", `Yes.<div><br><blockquote type="cite"><div>On 1 Dec 2026, at 10:00, Support &lt;s@x.example&gt; wrote:</div><div>Q</div></blockquote></div>`, "Yes."},
		{"apple mail ios", `<div dir="ltr">Yes.</div><div dir="ltr"><br><blockquote type="cite">On 1 Dec 2026, at 10:00, Support wrote:<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">Q</div></blockquote>`, "Yes."},
		{"thunderbird", `<p>Yes.</p><div class="moz-signature">-- <br>Jan</div><div class="moz-cite-prefix">On 12/1/26 10:00, Support wrote:<br></div><blockquote type="cite">Q</blockquote>`, "Yes."},
		{"thunderbird pre signature", `<p>Yes.</p><pre class="moz-signature" cols="72">-- 
Jan</pre>`, "Yes."},
		{"inline reply in a cite blockquote is kept", `<blockquote type="cite">Does A work?</blockquote><div>Yes.</div><blockquote type="cite">And B?</blockquote><div>No.</div>`, "> Does A work?\nYes.\n> And B?\nNo."},
		{"thunderbird bottom-posted", `<div class="moz-cite-prefix">On 12/1/26 10:00, Support wrote:<br></div><blockquote type="cite">Does it work?</blockquote><p>Yes, it does.</p>`, "Yes, it does."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, _ := stripHTML(c.html); got != c.want {
				t.Errorf("stripHTML =\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// With both parts, the HTML's quote and signature elements say where the
// plain text's history and signature start, where the text alone cannot.
func TestStripWithHTML(t *testing.T) {
	cases := []struct{ name, plain, html, want string }{
		{"outlook signature without --", "Yes.\n\nJan\n\nJan Novák\nAcme s.r.o.\n\nFrom: S\nSent: Mon\nTo: J\nSubject: Q\n\nQ\n",
			`<p class="MsoNormal">Yes.</p><p class="MsoNormal">Jan</p><p class="MsoNormal"><a name="_MailAutoSig">Jan Novák</a></p><p class="MsoNormal">Acme s.r.o.</p><div style="border-top:solid #E1E1E1 1.0pt"><p class="MsoNormal"><b>From:</b> S</p></div>`,
			"Yes.\n\nJan"},
		{"signature equal to the sign-off", "Thanks,\nJan\n\n-- \nJan\n",
			`<div>Thanks,</div><div>Jan</div><span class="gmail_signature_prefix">-- </span><br><div class="gmail_signature">Jan</div>`,
			"Thanks,\nJan"},
		{"reply header in a language the text rules do not know", "Ja.\n\nOp ma 1 dec 2026 om 10:00 schreef Support <s@x.example>:\n\n> Vraag\n",
			`<div>Ja.</div><div class="gmail_quote"><div class="gmail_attr">Op ma 1 dec 2026 om 10:00 schreef Support &lt;s@x.example&gt;:</div><blockquote class="gmail_quote">Vraag</blockquote></div>`,
			"Ja."},
		{"a quote's first line in the new text is not a cut", "Thanks.\nHello,\nit works now.\n\n> Hello,\n> does it work?\n",
			`<div>Thanks.<br>Hello,<br>it works now.</div><blockquote type="cite">Hello,<br>does it work?</blockquote>`,
			"Thanks.\nHello,\nit works now."},
		{"a marker line before any text is not a cut", "Jan Novák\nhere, the export fails.\n",
			`<div><a name="_MailAutoSig">Jan Novák</a></div><div>here, the export fails.</div>`,
			"Jan Novák\nhere, the export fails."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := strip(c.plain, c.html); got != c.want {
				t.Errorf("strip =\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}
