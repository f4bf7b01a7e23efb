package console

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/tickets"
)

// agentConfirmEmail is POST /agent/tickets/:number/confirm-email: an agent
// confirms the ticket's e-mail address by hand (after a phone call), so
// that the plan its domain grants applies to every pending ticket of it;
// the audit trail says who did.
func (h *handler) agentConfirmEmail(c *fiber.Ctx) error {
	t, err := h.agentTicket(c)
	if err != nil {
		return err
	}
	conf, err := h.tickets.ConfirmAddress(c.UserContext(), t.Email, tickets.Confirmer{Via: tickets.ViaStaff, Staff: me(c)})
	if err != nil {
		return h.formError(c, err, tickets.AgentReply{}, "")
	}
	moved := make([]string, len(conf.Moved))
	for i, m := range conf.Moved {
		moved[i] = "#" + strconv.Itoa(m.Number)
	}
	detail := map[string]string{"ticket": "#" + strconv.Itoa(t.Number), "moved": strings.Join(moved, " ")}
	if conf.Already {
		detail["already"] = conf.By
	}
	if err := h.staff.Record(c.UserContext(), currentStaff(c).User, "address confirmed", conf.Email, detail); err != nil {
		h.log.Warn("recording an address confirmation in the audit trail", "err", err)
	}
	return c.Redirect(fmt.Sprintf("/agent/tickets/%d?flash=confirmed", t.Number), fiber.StatusSeeOther)
}
