package httpkit

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// TicketNumber reads the :number parameter; anything else is not found.
func TicketNumber(c *fiber.Ctx) (int, error) {
	n, err := strconv.Atoi(c.Params("number"))
	if err != nil || n <= 0 {
		return 0, ErrNotFound
	}
	return n, nil
}

// Bearer returns the token of an "Authorization: Bearer" header.
func Bearer(c *fiber.Ctx) string {
	v := c.Get(fiber.HeaderAuthorization)
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}
