// Package rawhttp is the benchmark tools' HTTP/1.1 client: one keep-alive
// connection, requests written as given, responses read by Content-Length
// (what the portal sends). net/http's client costs about as much CPU per
// request as the portal's answer, and the tools share the CPU with it.
package rawhttp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Conn is one keep-alive connection.
type Conn struct {
	c    net.Conn
	r    *bufio.Reader
	body []byte
	// Encoding is the last answer's Content-Encoding ("" for none).
	Encoding string
}

// Dial connects to host ("127.0.0.1:8080").
func Dial(host string) (*Conn, error) {
	c, err := net.Dial("tcp", host)
	if err != nil {
		return nil, err
	}
	return &Conn{c: c, r: bufio.NewReaderSize(c, 64<<10)}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// Do writes req, a complete HTTP/1.1 request, and reads the answer within
// timeout. With keepBody the body is returned (valid until the next call);
// otherwise it is skipped.
func (c *Conn) Do(req []byte, timeout time.Duration, keepBody bool) (int, []byte, error) {
	c.c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.c.Write(req); err != nil {
		return 0, nil, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, err
	}
	length := -1
	c.Encoding = ""
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		if len(h) <= 2 {
			break
		}
		if len(h) > 17 && bytes.EqualFold(h[:17], []byte("Content-Encoding:")) {
			c.Encoding = string(bytes.TrimSpace(h[17:]))
		}
		if len(h) > 15 && bytes.EqualFold(h[:15], []byte("Content-Length:")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(h[15:]))); err != nil {
				return 0, nil, err
			}
		}
	}
	if length < 0 {
		return 0, nil, errors.New("response without Content-Length")
	}
	if !keepBody {
		_, err := c.r.Discard(length)
		return status, nil, err
	}
	if cap(c.body) < length {
		c.body = make([]byte, length)
	}
	c.body = c.body[:length]
	if _, err := io.ReadFull(c.r, c.body); err != nil {
		return 0, nil, err
	}
	return status, c.body, nil
}
