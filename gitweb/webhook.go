package gitweb

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/publish"
)

// maxWebhook bounds a webhook's body: hosts send the push's commits, a few
// hundred KiB at most for the pushes a knowledge base sees.
const maxWebhook = 5 << 20

// webhook is POST /api/hooks/git: a git host (GitHub, GitLab, Gitea) says
// its branch moved. The signature is checked before anything else; then
// the branch is fetched, checked as a push is, and published. The answer
// says what happened, for the host's delivery log: 200 published, 202
// ignored (another branch, a ping), 422 refused with the problems.
func (h *Handler) webhook(c *fiber.Ctx) error {
	if h.cfg.Publisher == nil || h.cfg.WebhookSecret == "" {
		return fiber.ErrNotFound
	}
	if err := httpkit.ReadBody(c, maxWebhook); err != nil {
		return err
	}
	host, err := verifySignature(func(k string) string { return c.Get(k) }, c.Body(), h.cfg.WebhookSecret)
	if err != nil {
		// A wrong secret is a misconfiguration or an attack: both need an
		// operator's eye, and count against the client like a bad token.
		h.log.Warn("webhook refused", "host", host, "reason", err.Error(), "client", httpkit.ClientIP(c))
		if lerr := h.signIn.Allow(httpkit.ClientIP(c)); lerr != nil {
			return lerr
		}
		return c.Status(fiber.StatusUnauthorized).JSON(fiber.Map{"error": "signature", "message": err.Error()})
	}
	switch event := firstHeader(c, "X-GitHub-Event", "X-Gitea-Event", "X-Gitlab-Event"); {
	case strings.EqualFold(event, "ping"):
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "ignored", "reason": "ping"})
	case event != "" && !strings.EqualFold(event, "push") && !strings.EqualFold(event, "Push Hook"):
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "ignored", "reason": "not a push event: " + event})
	}
	var payload struct {
		Ref string `json:"ref"`
	}
	if json.Unmarshal(c.Body(), &payload) == nil && payload.Ref != "" && payload.Ref != "refs/heads/"+h.cfg.RemoteBranch {
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "ignored", "reason": "not the published branch: " + payload.Ref})
	}
	commit, err := h.cfg.Publisher.FetchAndPublish(c.UserContext())
	var rej *publish.Rejected
	if errors.As(err, &rej) {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"status": "refused", "commit": rej.Commit, "problems": rej.Problems})
	}
	if err != nil {
		h.log.Error("webhook: publishing failed", "err", err)
		return c.Status(fiber.StatusBadGateway).JSON(fiber.Map{"status": "failed", "message": "the portal could not fetch or publish the branch; see its log"})
	}
	h.log.Info("webhook published", "host", host, "commit", commit)
	return c.JSON(fiber.Map{"status": "published", "commit": commit})
}

func firstHeader(c *fiber.Ctx, names ...string) string {
	for _, n := range names {
		if v := c.Get(n); v != "" {
			return v
		}
	}
	return ""
}
