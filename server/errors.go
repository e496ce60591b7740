package server

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sort"
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

// dbRetryAfter is the Retry-After, in seconds, of an answer refused because the database cannot be
// reached: about what a restart of PostgreSQL takes (scripts/drill db-restart).
const dbRetryAfter = 5

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
	if e.Kind == failure.Internal && pg.IsUnreachable(err) {
		// The database is down, restarting or failing over (a refused or lost connection, the pool
		// closed, the server shutting sessions down): a known fault, not a bug; the client may try
		// again in a few seconds (the exam page does, with the same answer).
		e = &failure.Error{Kind: failure.Unavailable, Msg: failure.Msg{Key: "error.db_unavailable"}, RetryAfter: dbRetryAfter, Err: err}
		s.log.WarnContext(c.UserContext(), "request refused: database unreachable", slog.String("request_id", requestID(c)),
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
		if err := c.Status(status).JSON(errorBody{Error: detail}); err != nil {
			return err
		}
		s.checkError(c)
		return nil
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

// Forms. A failed form submission is answered here too, beside handleError: which kinds show the
// form again, with which status, and each field's message in a fixed order. Every handler that shows
// a form again goes through failedForm (or failedFormIn, for forms that go back by redirect).

// formKinds are the errors a form is shown again for: a mistake the user can fix on the form (invalid
// input, a conflict, wrong credentials, slow down, busy). Any other kind (forbidden, not found,
// internal) goes to handleError, which keeps its status.
var formKinds = map[failure.Kind]bool{
	failure.Invalid:         true,
	failure.Conflict:        true,
	failure.Unauthenticated: true,
	failure.TooMany:         true,
	failure.Unavailable:     true,
}

// fieldMessage is one field's translated message.
type fieldMessage struct {
	Field   string
	Message string
	Msg     failure.Msg
}

// formFailure is a failed submission as its form shows it.
type formFailure struct {
	Status  int
	Kind    failure.Kind
	Msg     failure.Msg // the error's own message
	Message string      // Msg translated
	Fields  []fieldMessage
}

// ByField is the field messages by field name, as templates look them up beside each input.
func (f *formFailure) ByField() map[string]string {
	m := make(map[string]string, len(f.Fields))
	for _, fm := range f.Fields {
		m[fm.Field] = fm.Message
	}
	return m
}

// First is the one message of a form that has a single place for it: the first field's message in
// the form's order, else the error's own message.
func (f *formFailure) First() string {
	if len(f.Fields) > 0 {
		return f.Fields[0].Message
	}
	return f.Message
}

// FirstMsg is First untranslated, for a redirect that carries the key to the page.
// All is every field's message in the form's field order, joined (or the error's own message), for a
// form that shows its problems together above the fields.
func (f *formFailure) All(sep string) string {
	if len(f.Fields) == 0 {
		return f.Message
	}
	msgs := make([]string, len(f.Fields))
	for i, fm := range f.Fields {
		msgs[i] = fm.Message
	}
	return strings.Join(msgs, sep)
}

func (f *formFailure) FirstMsg() failure.Msg {
	if len(f.Fields) > 0 {
		return f.Fields[0].Msg
	}
	return f.Msg
}

// failedFormIn decides whether err is shown again on its form and translates it into lang. order is
// the form's fields as they appear on it; fields it does not name follow, sorted by name, so the
// message shown never depends on map iteration. Any other error comes back as it is, for
// handleError.
func (s *Server) failedFormIn(lang string, err error, order ...string) (*formFailure, error) {
	if err == nil {
		return nil, nil
	}
	e := failure.As(err)
	if !formKinds[e.Kind] {
		return nil, err
	}
	f := &formFailure{Status: kindStatus[e.Kind], Kind: e.Kind, Msg: e.Msg}
	if f.Msg.Key == "" {
		f.Msg.Key = "error." + e.Kind.Code()
	}
	f.Message = s.i18n.T(lang, f.Msg.Key, f.Msg.Args...)
	names := make([]string, 0, len(e.Fields))
	for _, n := range order {
		if _, ok := e.Fields[n]; ok && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	rest := make([]string, 0, len(e.Fields))
	for n := range e.Fields {
		if !slices.Contains(names, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	for _, n := range append(names, rest...) {
		m := e.Fields[n]
		f.Fields = append(f.Fields, fieldMessage{Field: n, Msg: m, Message: s.i18n.T(lang, m.Key, m.Args...)})
	}
	return f, nil
}

// failedFormBack is failedFormIn for a form that goes back to its page by a redirect (303), which
// carries the message but no status: only invalid input and conflicts go back; a slow-down or a busy
// database keeps its status (429, 503) and its Retry-After through handleError.
func (s *Server) failedFormBack(lang string, err error, order ...string) (*formFailure, error) {
	f, pass := s.failedFormIn(lang, err, order...)
	if f != nil && f.Kind != failure.Invalid && f.Kind != failure.Conflict {
		return nil, err
	}
	return f, pass
}

// failedForm is failedFormIn for a form shown again in this response: it also sets the status
// (422 for invalid input, 409 for a conflict…, never 200) and Retry-After where it applies.
func (s *Server) failedForm(c *fiber.Ctx, err error, order ...string) (*formFailure, error) {
	f, pass := s.failedFormIn(langOf(c), err, order...)
	if f == nil {
		return nil, pass
	}
	if e := failure.As(err); (e.Kind == failure.TooMany || e.Kind == failure.Unavailable) && e.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(e.RetryAfter))
	}
	c.Status(f.Status)
	return f, nil
}
