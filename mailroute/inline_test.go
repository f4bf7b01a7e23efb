package mailroute_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"testing"
)

// TestSignatureImagesDoNotCrowdOutFiles: a reply with five inline
// signature images before the file attached keeps the file (the limit is
// five files; attached ones are taken first).
func TestSignatureImagesDoNotCrowdOutFiles(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	tk := p.file(t, "jana@acme.example")
	to := p.ReplyTags.Address(tk.Number)
	var b bytes.Buffer
	b.WriteString("From: Jana <jana@acme.example>\r\nTo: " + to + "\r\nSubject: Re: export\r\nMessage-ID: <sig@acme.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n" +
		"--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Here is the export log.</p><p>Jana<br><img src=\"cid:i0\"><img src=\"cid:i1\"><img src=\"cid:i2\"><img src=\"cid:i3\"><img src=\"cid:i4\"></p>\r\n")
	for i := range 5 {
		var img bytes.Buffer
		png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 2+i, 2)))
		fmt.Fprintf(&b, "--r\r\nContent-Type: image/png; name=\"image00%d.png\"\r\nContent-Disposition: inline; filename=\"image00%d.png\"\r\nContent-ID: <i%d>\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n", i, i, i, base64.StdEncoding.EncodeToString(img.Bytes()))
	}
	b.WriteString("--r--\r\n--m\r\nContent-Type: text/plain; name=\"export.log\"\r\nContent-Disposition: attachment; filename=\"export.log\"\r\n\r\nERROR export stopped at row 5000\r\n--m--\r\n")
	if err := p.Route.Deliver(ctx, "jana@acme.example", []string{to}, b.Bytes()); err != nil {
		t.Fatal(err)
	}
	got, err := p.Tickets.GetByNumber(ctx, tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	last := got.Messages[len(got.Messages)-1]
	var names []string
	for _, a := range got.AttachmentsOf(last.ID) {
		names = append(names, a.Name)
	}
	if len(names) == 0 || names[0] != "export.log" {
		t.Errorf("attachments %v: want export.log kept, first", names)
	}
}
