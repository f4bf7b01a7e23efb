package gitweb

import (
	"io"
	"sync"
)

// bufPipe carries git's output from the process to the response. Unlike
// io.Pipe it holds up to max bytes, so what git writes before the handler
// has handed over the response (an early error) never blocks it; past
// max, a writer waits for the reader.
type bufPipe struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	max    int
	werr   error // the writer closed: io.EOF or its error
	rerr   error // the reader closed: writes fail with it
	closed bool
}

func newBufPipe(max int) *bufPipe {
	p := &bufPipe{max: max}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func (p *bufPipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for len(b) > 0 {
		for p.rerr == nil && !p.closed && len(p.buf) >= p.max {
			p.cond.Wait()
		}
		if p.rerr != nil {
			return n, p.rerr
		}
		if p.closed {
			return n, io.ErrClosedPipe
		}
		k := min(len(b), p.max-len(p.buf))
		p.buf = append(p.buf, b[:k]...)
		b, n = b[k:], n+k
		p.cond.Broadcast()
	}
	return n, nil
}

// CloseWrite ends the stream: the reader gets err (io.EOF if nil) once it
// has read what is buffered.
func (p *bufPipe) CloseWrite(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		err = io.EOF
	}
	if !p.closed {
		p.closed, p.werr = true, err
	}
	p.cond.Broadcast()
}

func (p *bufPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.buf) == 0 && !p.closed {
		p.cond.Wait()
	}
	if len(p.buf) == 0 {
		return 0, p.werr
	}
	n := copy(b, p.buf)
	p.buf = p.buf[:copy(p.buf, p.buf[n:])]
	p.cond.Broadcast()
	return n, nil
}

// CloseRead makes further writes fail with err: the client went away.
func (p *bufPipe) CloseRead(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rerr = err
	p.buf = nil
	p.cond.Broadcast()
}
