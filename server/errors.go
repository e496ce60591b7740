package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

var kindStatus = map[failure.Kind]int{
	failure.Internal:        http.StatusInternalServerError,
	failure.Invalid:         http.StatusUnprocessableEntity,
	failure.NotFound:        http.StatusNotFound,
	failure.Conflict:        http.StatusConflict,
	failure.Unauthenticated: http.StatusUnauthorized,
	failure.Forbidden:       http.StatusForbidden,
	failure.TooMany:         http.StatusTooManyRequests,
	failure.Unavailable:     http.StatusServiceUnavailable,
}

// fiberKinds maps the errors fiber itself raises (no route, body too large…) onto our kinds.
func fromFiber(fe *fiber.Error) *failure.Error {
	switch fe.Code {
	case http.StatusNotFound:
		return failure.New(failure.NotFound, "error.not_found")
	case http.StatusMethodNotAllowed:
		return &failure.Error{Kind: failure.NotFound, Msg: failure.Msg{Key: "error.method_not_allowed"}}
	case http.StatusRequestEntityTooLarge:
		return failure.New(failure.Invalid, "error.too_large")
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType:
		return failure.New(failure.Invalid, "error.bad_request")
	case http.StatusUnauthorized:
		return failure.New(failure.Unauthenticated, "error.unauthenticated")
	case http.StatusForbidden:
		return failure.New(failure.Forbidden, "error.forbidden")
	case http.StatusTooManyRequests:
		return failure.New(failure.TooMany, "error.too_many")
	}
	return &failure.Error{Kind: failure.Internal, Msg: failure.Msg{Key: "error.internal"}, Err: fe}
}

// statusOverride keeps fiber's own status where ours would be less precise (405, 413, 400).
func statusOverride(err error) int {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge, http.StatusBadRequest, http.StatusUnsupportedMediaType:
			return fe.Code
		}
	}
	return 0
}

// errorBody is the one JSON error shape of the API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string            `json:"code"`
	Key       string            `json:"key,omitempty"` // the message's translation key, a finer reason than Code (e.g. exams.recorded_late)
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// handleError is the only place where errors become responses.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	var e *failure.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &e):
	case errors.As(err, &fe):
		e = fromFiber(fe)
	default:
		e = failure.As(err)
	}
	if e.Kind == failure.Internal && pg.IsDataException(err) {
		// A value PostgreSQL itself refused (out of range, too long, a NUL) that validation let
		// through: the request was wrong, so 422, and logged so that the missing check gets written.
		s.log.WarnContext(c.UserContext(), "value refused by the database", slog.String("request_id", requestID(c)),
			slog.String("path", c.Path()), slog.Any("err", err))
		e = &failure.Error{Kind: failure.Invalid, Msg: failure.Msg{Key: "error.bad_request"}, Err: err}
	}
	if e.Kind == failure.Internal && pg.IsBusy(err) {
		// No connection free in time, or a lock or statement timeout: the database is busy, nothing
		// is broken; the client may try again shortly (docs/architecture.md, Transactions and locks).
		e = &failure.Error{Kind: failure.Unavailable, Msg: failure.Msg{Key: "error.busy"}, RetryAfter: 1, Err: err}
		s.log.WarnContext(c.UserContext(), "request refused: database busy", slog.String("request_id", requestID(c)),
			slog.String("method", c.Method()), slog.String("path", c.Path()), slog.Any("err", err))
	}
	status := kindStatus[e.Kind]
	if o := statusOverride(err); o != 0 {
		status = o
	}
	rid := requestID(c)
	if e.Kind == failure.Internal {
		s.log.ErrorContext(c.UserContext(), "request failed", slog.String("request_id", rid),
			slog.String("method", c.Method()), slog.String("path", c.Path()), slog.Any("err", err))
	}
	lang := langOf(c)
	key := e.Msg.Key
	if key == "" || e.Kind == failure.Internal {
		key = "error." + e.Kind.Code()
		if e.Kind == failure.Internal {
			key = "error.internal"
		}
	}
	detail := errorDetail{Code: e.Kind.Code(), Key: key, Message: s.i18n.T(lang, key, e.Msg.Args...), RequestID: rid}
	if len(e.Fields) > 0 {
		detail.Fields = make(map[string]string, len(e.Fields))
		for f, m := range e.Fields {
			detail.Fields[f] = s.i18n.T(lang, m.Key, m.Args...)
		}
	}
	if (e.Kind == failure.TooMany || e.Kind == failure.Unavailable) && e.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(e.RetryAfter))
	}
	if wantsJSON(c) {
		return c.Status(status).JSON(errorBody{Error: detail})
	}
	return s.render(c.Status(status), "error", page{Title: s.i18n.T(lang, "error.title"), Data: detail})
}

// wantsJSON: the API always answers JSON; elsewhere JSON only for clients that do not take HTML.
func wantsJSON(c *fiber.Ctx) bool {
	if strings.HasPrefix(c.Path(), "/api/") || c.Path() == "/api" {
		return true
	}
	accept := c.Get(fiber.HeaderAccept)
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

func requestID(c *fiber.Ctx) string {
	if v, ok := c.Locals("requestid").(string); ok {
		return v
	}
	return ""
}
