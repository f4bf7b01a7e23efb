package gitrepo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Git's smart protocol as plain io: what an HTTP handler streams between the
// client and git (as git http-backend does), without any HTTP here.

const (
	ServiceUploadPack  = "git-upload-pack"
	ServiceReceivePack = "git-receive-pack"
)

// protocolPart is one safe key=value of a client's Git-Protocol header
// ("version=2", "object-format=sha256").
var protocolPart = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}=[A-Za-z0-9._-]{1,40}$`)

// protocolEnv passes the client's Git-Protocol on as GIT_PROTOCOL, keeping
// only well-formed key=value parts.
func protocolEnv(gitProtocol string) []string {
	var keep []string
	for _, p := range strings.Split(gitProtocol, ":") {
		if protocolPart.MatchString(p) && len(keep) < 8 {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return []string{"GIT_PROTOCOL=" + strings.Join(keep, ":")}
}

func wantsV2(gitProtocol string) bool {
	for _, p := range strings.Split(gitProtocol, ":") {
		if p == "version=2" {
			return true
		}
	}
	return false
}

// AdvertiseRefs writes the answer to GET info/refs?service=<service>.
// Like git http-backend, the "# service=" header precedes the refs except
// for a protocol v2 fetch, whose capability advertisement stands alone;
// receive-pack has no v2 and always gets it.
func (r *Repo) AdvertiseRefs(ctx context.Context, service, gitProtocol string, w io.Writer) error {
	cmd, err := serviceCommand(service)
	if err != nil {
		return err
	}
	gitProtocol = r.protocol(gitProtocol)
	var out bytes.Buffer // small: buffered so a failure can still be an error page
	if service != ServiceUploadPack || !wantsV2(gitProtocol) {
		out.WriteString(pktLine("# service=" + service + "\n"))
		out.WriteString("0000")
	}
	env := append(r.baseEnv(), protocolEnv(gitProtocol)...)
	var errb bytes.Buffer
	c := command(ctx, env, cmd, "--stateless-rpc", "--advertise-refs", r.dir)
	c.Stdout, c.Stderr = &out, &limitedBuffer{max: 4096, buf: &errb}
	if err := c.Run(); err != nil {
		return fmt.Errorf("gitrepo: advertise %s: %w: %s", service, err, strings.TrimSpace(errb.String()))
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("gitrepo: advertise %s: %w", service, err)
	}
	return nil
}

// UploadPack answers a fetch or clone: the client's request from in, the
// pack to out, streamed.
func (r *Repo) UploadPack(ctx context.Context, gitProtocol string, in io.Reader, out io.Writer) error {
	if err := r.stateless(ctx, "upload-pack", protocolEnv(r.protocol(gitProtocol)), in, out); err != nil {
		return fmt.Errorf("gitrepo: upload-pack: %w", err)
	}
	return nil
}

// ReceivePack answers a push: the client's commands and pack from in, the
// report to out. The pre-receive hook hands the ref updates to check, with
// the new objects still in quarantine; check's verdict decides whether any
// ref moves, and its messages reach the pusher as "remote:" lines.
func (r *Repo) ReceivePack(ctx context.Context, gitProtocol string, in io.Reader, out io.Writer, check CheckFunc) error {
	if check == nil {
		return fmt.Errorf("gitrepo: receive-pack: no check")
	}
	s, err := newHookSession()
	if err != nil {
		return fmt.Errorf("gitrepo: receive-pack: %w", err)
	}
	go s.serve(ctx, r, check)
	env := append(protocolEnv(gitProtocol), "PORTAL_HOOK_DIR="+s.dir)
	err = r.stateless(ctx, "receive-pack", env, in, out)
	s.close() // wakes serve if the hook never ran
	<-s.done
	if err != nil {
		return fmt.Errorf("gitrepo: receive-pack: %w", err)
	}
	return nil
}

func (r *Repo) stateless(ctx context.Context, cmd string, env []string, in io.Reader, out io.Writer) error {
	var errb bytes.Buffer
	c := command(ctx, append(r.baseEnv(), env...), cmd, "--stateless-rpc", r.dir)
	c.Stdin, c.Stdout, c.Stderr = in, out, &limitedBuffer{max: 4096, buf: &errb}
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	return nil
}

func serviceCommand(service string) (string, error) {
	switch service {
	case ServiceUploadPack:
		return "upload-pack", nil
	case ServiceReceivePack:
		return "receive-pack", nil
	}
	return "", fmt.Errorf("gitrepo: unknown service %q", service)
}

// pktLine frames s as one pkt-line: four hex digits of length, then s.
func pktLine(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

// limitedBuffer keeps the first max bytes of a child's stderr, for errors.
type limitedBuffer struct {
	max int
	buf *bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// Hiding is a view of r whose fetches neither list nor serve the refs under
// the given prefixes (uploadpack.hideRefs): an anonymous clone sees main,
// not the staff's preview branches. It speaks protocol v0 only: a v2
// upload-pack serves a hidden commit to whoever asks for it by id.
func (r *Repo) Hiding(prefixes ...string) *Repo {
	env := []string{fmt.Sprintf("GIT_CONFIG_COUNT=%d", len(prefixes))}
	for i, p := range prefixes {
		env = append(env, fmt.Sprintf("GIT_CONFIG_KEY_%d=uploadpack.hideRefs", i), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", i, p))
	}
	v := r.view(env)
	v.hiding = true
	return v
}

// protocol is the client's Git-Protocol as this view honours it.
func (r *Repo) protocol(gitProtocol string) string {
	if r.hiding {
		return ""
	}
	return gitProtocol
}
