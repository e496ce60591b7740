package server

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"shanyu/internal/failure"
)

// bindJSON decodes a JSON body into v, answering a clear 400-class error for anything else.
func bindJSON(c *fiber.Ctx, v any) error {
	if err := c.BodyParser(v); err != nil {
		return failure.New(failure.Invalid, "error.bad_request").Wrap(err)
	}
	return nil
}

// pageParams reads limit and offset query parameters with sane bounds.
func pageParams(c *fiber.Ctx) (limit, offset int) {
	limit, _ = strconv.Atoi(c.Query("limit", "20"))
	offset, _ = strconv.Atoi(c.Query("offset", "0"))
	if limit <= 0 || limit > 200 {
		limit = 20
	}
	return limit, max(offset, 0)
}

// idParam reads a positive integer path parameter.
func idParam(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, failure.New(failure.NotFound, "error.not_found")
	}
	return id, nil
}
