package server

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/exams"
	"shanyu/internal/pg"
)

// deviceHeader carries the token of the device that holds an attempt.
const deviceHeader = "X-Exam-Device"

var (
	examInt = map[string]any{"type": "integer"}
	anyJSON = map[string]any{"type": "object"}
)

// routesExams registers the exams pages and JSON endpoints (owned by the exams work).
func (s *Server) routesExams() {
	take := can("exams.take", "write")
	s.api(apiRoute{Method: "GET", Path: "/api/v1/my/exams", Scope: scopeOwn, Summary: "My exam sessions", Tag: "exams", Perm: can("exams.take", "read"), Response: itemsOf[exams.MySession](nil)}, s.apiMyExams)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/exam-sessions/:id/registrations", Scope: byExamSession("id"), Summary: "Register for a session", Tag: "exams", Perm: take, Response: schemaOf[exams.Registration](), Status: 201}, s.apiRegister)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/exam-sessions/:id/start", Scope: byExamSession("id"), Summary: "Start my attempt, or take it over with take_over (returns the device token)", Tag: "exams", Perm: take,
		Request: object(nil, map[string]any{"take_over": map[string]any{"type": "boolean"}}), Optional: true, Response: startedSchema()}, s.apiStart)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/attempts/:id/paper", Scope: byAttempt("id"), Summary: "My paper, saved answers, evidence and the clock (X-Exam-Device)", Tag: "exams", Perm: take, Response: schemaOf[paperView]()}, s.apiPaper)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/attempts/:id/state", Scope: byAttempt("id"), Summary: "Server time, deadline and whether this device holds the attempt (X-Exam-Device)", Tag: "exams", Perm: take,
		Query: []string{"answered"}, Response: schemaOf[exams.State]()}, s.apiState)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/attempts/:id/answers", Scope: byAttempt("id"), Summary: "Save one answer, idempotent by the device's seq (X-Exam-Device); kept as evidence when it cannot count", Tag: "exams", Perm: take,
		Request: object([]string{"seq", "item", "response"}, map[string]any{"seq": examInt, "item": examInt, "response": anyJSON, "typed_at": map[string]any{"type": "string", "format": "date-time"}}), Response: schemaOf[exams.Ack]()}, s.apiSave)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/attempts/:id/submit", Scope: byAttempt("id"), Summary: "Submit my attempt (final, idempotent)", Tag: "exams", Perm: take, Response: props(map[string]any{"attempt": schemaOf[exams.Attempt]()})}, s.apiSubmit)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/attempts/:id/signals", Scope: byAttempt("id"), Summary: "Log a proctoring signal", Tag: "exams", Perm: take,
		Request: object([]string{"kind"}, map[string]any{"kind": str, "detail": str}), Status: 204}, s.apiSignal)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/my/results", Scope: scopeOwn, Summary: "My published results", Tag: "exams", Perm: can("exams.take", "read"), Response: itemsOf[exams.Result](nil)}, s.apiMyResults)

	s.api(apiRoute{Method: "GET", Path: "/api/v1/exam-sessions/:id/registrations", Scope: byExamSession("id"), Summary: "Registrations of a session", Tag: "exams", Perm: can("exams.sessions", "read"), Response: itemsOf[exams.Registration](nil)}, s.apiRegistrations)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/exam-registrations/:id/decision", Scope: byRegistration("id"), Summary: "Approve or reject a registration", Tag: "exams", Perm: can("exams.sessions", "write"),
		Request: object([]string{"approve"}, map[string]any{"approve": map[string]any{"type": "boolean"}, "extra_seconds": examInt}), Status: 204}, s.apiDecide)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/exam-sessions/:id/marking", Scope: byExamSession("id"), Summary: "Marking queue (candidates not named)", Tag: "exams", Perm: can("exams.marking", "read"), Response: itemsOf[exams.MarkTask](nil)}, s.apiMarkingQueue)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/attempts/:id/marks", Scope: byAttempt("id"), Summary: "Mark a subjective answer", Tag: "exams", Perm: can("exams.marking", "write"),
		Request: object([]string{"position", "marks"}, map[string]any{"position": examInt, "marks": map[string]any{"type": "array", "items": map[string]any{"type": "number"}}}), Status: 204}, s.apiMark)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/exam-sessions/:id/publish", Scope: byExamSession("id"), Summary: "Publish results (requests certificates for passes)", Tag: "exams", Perm: can("exams.results", "write"), Response: props(map[string]any{"published": integer})}, s.apiPublishResults)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/exam-sessions/:id/regrade", Scope: byExamSession("id"), Summary: "Regrade against corrected keys (dry_run=true lists who changes)", Tag: "exams", Perm: can("exams.results", "write"), Query: []string{"dry_run"}, Response: props(map[string]any{"dry_run": boolean, "changes": schemaOf[[]exams.Change]()})}, s.apiRegrade)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/exam-sessions/:id/results", Scope: byExamSession("id"), Summary: "Results of a session", Tag: "exams", Perm: can("exams.results", "read"), Response: itemsOf[exams.Result](nil)}, s.apiResults)
	s.page("GET", "/exams/sessions/:id/results.csv", can("exams.results", "read"), byExamSession("id"), s.resultsCSV)
	s.routesExamPages()
	s.routesPractice()
	s.routesExamSetup()
}

// personOf is the signed-in person.
func personOf(c *fiber.Ctx) int64 { return principalOf(c).User.PersonID }

// sessionInCentre loads a session and checks the caller's permission in its centre.
func (s *Server) sessionInCentre(c *fiber.Ctx, id int64, obj, act string) (exams.Session, error) {
	x, err := s.domains.Exams.GetSession(c.UserContext(), id)
	if err != nil {
		return x, err
	}
	org, err := s.accounts.OrganisationByID(c.UserContext(), x.CentreID)
	if err != nil {
		return x, err
	}
	return x, s.allowedIn(c, obj, act, org.Domains()...)
}

// sessionParam loads the exam session named by the path's :id and checks the caller's permission in
// its centre.
func (s *Server) sessionParam(c *fiber.Ctx, obj, act string) (exams.Session, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return exams.Session{}, err
	}
	return s.sessionInCentre(c, id, obj, act)
}

func (s *Server) apiMyExams(c *fiber.Ctx) error {
	list, err := s.domains.Exams.OpenSessions(c.UserContext(), personOf(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": list})
}

func (s *Server) apiRegister(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := s.domains.Exams.Register(c.UserContext(), id, personOf(c))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

// apiStart begins the caller's attempt. While another device holds it, the answer is 409
// exams.held_elsewhere unless the body says {"take_over": true}: the candidate confirmed
// "在本设备继续作答" on this device.
func (s *Server) apiStart(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		TakeOver bool `json:"take_over"`
	}
	if len(c.Body()) > 0 {
		if err := bindJSON(c, &b); err != nil {
			return err
		}
	}
	start := s.domains.Exams.Start
	if b.TakeOver {
		start = s.domains.Exams.TakeOver
	}
	st, err := start(c.UserContext(), id, personOf(c))
	if err != nil {
		return err
	}
	return sendPaper(c, st.AppendJSON, st.AppendGzip)
}

func (s *Server) apiPaper(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.domains.Exams.PaperJSON(c.UserContext(), id, personOf(c), c.Get(deviceHeader))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendPaper(c, v.AppendJSON, v.AppendGzip)
}

func (s *Server) apiState(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	st, err := s.domains.Exams.AttemptState(c.UserContext(), id, personOf(c), c.Get(deviceHeader), c.QueryBool("answered"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(st)
}

type saveBody struct {
	Seq      int64        `json:"seq"`
	Item     int          `json:"item"`
	Response exams.Answer `json:"response"`
	TypedAt  *time.Time   `json:"typed_at"`
}

func (s *Server) apiSave(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b saveBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	ack, err := s.domains.Exams.Save(c.UserContext(), id, personOf(c), c.Get(deviceHeader), b.Seq, b.Item, b.Response, b.TypedAt)
	if err != nil {
		return err
	}
	return c.JSON(ack)
}

func (s *Server) apiSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	release, err := s.submitSlot(c.UserContext())
	if err != nil {
		return err
	}
	defer release()
	a, err := s.domains.Exams.Submit(c.UserContext(), id, personOf(c), c.Get(deviceHeader), exams.ByCandidate)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"attempt": a})
}

func (s *Server) apiSignal(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Kind   string `json:"kind"`
		Detail string `json:"detail"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if err := s.domains.Exams.Signal(c.UserContext(), id, personOf(c), c.Get(deviceHeader), b.Kind, b.Detail); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) apiMyResults(c *fiber.Ctx) error {
	rs, err := s.domains.Exams.PersonResults(c.UserContext(), personOf(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": rs})
}

func (s *Server) apiRegistrations(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.sessions", "read")
	if err != nil {
		return err
	}
	id := x.ID
	rs, err := s.domains.Exams.Registrations(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": rs})
}

func (s *Server) apiDecide(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Approve bool `json:"approve"`
		Extra   int  `json:"extra_seconds"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	sessionID, err := s.domains.Exams.RegistrationSession(c.UserContext(), id)
	if err != nil {
		return err
	}
	if _, err := s.sessionInCentre(c, sessionID, "exams.sessions", "write"); err != nil {
		return err
	}
	if err := s.domains.Exams.Decide(c.UserContext(), principalOf(c).User.ID, id, b.Approve, time.Duration(b.Extra)*time.Second); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) apiMarkingQueue(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.marking", "read")
	if err != nil {
		return err
	}
	id := x.ID
	q, err := s.domains.Exams.MarkingQueue(c.UserContext(), id, principalOf(c).User.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": q})
}

func (s *Server) apiMark(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b struct {
		Position int       `json:"position"`
		Marks    []float64 `json:"marks"`
	}
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	sessionID, err := s.domains.Exams.AttemptSession(c.UserContext(), id)
	if err != nil {
		return err
	}
	if _, err := s.sessionInCentre(c, sessionID, "exams.marking", "write"); err != nil {
		return err
	}
	if err := s.domains.Exams.Mark(c.UserContext(), principalOf(c).User.ID, id, b.Position, b.Marks); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) apiPublishResults(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.results", "write")
	if err != nil {
		return err
	}
	id := x.ID
	n, err := s.domains.Exams.Publish(c.UserContext(), principalOf(c).User.ID, id)
	if err != nil {
		return err
	}
	// Who is still sitting: the session is closed to new starts, and their results follow as
	// each of them is graded.
	sitting, err := s.domains.Exams.Sitting(c.UserContext(), id)
	if err != nil {
		return err
	}
	if sitting == nil {
		sitting = []exams.Sitter{}
	}
	return c.JSON(fiber.Map{"published": n, "closed_to_new_starts": true, "sitting": sitting})
}

func (s *Server) apiRegrade(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.results", "write")
	if err != nil {
		return err
	}
	id := x.ID
	dry, _ := strconv.ParseBool(c.Query("dry_run", "true"))
	ch, err := s.domains.Exams.Regrade(c.UserContext(), principalOf(c).User.ID, id, dry)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"dry_run": dry, "changes": ch})
}

func (s *Server) apiResults(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.results", "read")
	if err != nil {
		return err
	}
	id := x.ID
	rs, err := s.domains.Exams.Results(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": rs})
}

func (s *Server) resultsCSV(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.results", "read")
	if err != nil {
		return err
	}
	id := x.ID
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="results-`+strconv.FormatInt(id, 10)+`.csv"`)
	return s.domains.Exams.WriteResultsCSV(c.UserContext(), id, c.Response().BodyWriter())
}

// paperView is exams.View as the paper route declares it: View writes its stored questions as they
// are (its MarshalJSON), in this same shape, which a schema cannot read from a MarshalJSON.
type paperView exams.View

// sendJSON answers with the JSON appendJSON writes: the paper routes' bodies, whose stored questions
// c.JSON would have encoding/json scan again (View.AppendJSON).
func sendJSON(c *fiber.Ctx, appendJSON func([]byte) ([]byte, error)) error {
	b, err := appendJSON(make([]byte, 0, 16<<10))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(b)
}

// sendPaper sends an answer that carries a paper. To a client that accepts gzip (every browser, and
// Go's client) a paper stored compressed goes as a gzip stream with the stored segment spliced in
// (appendGzip), so that no compressor runs for it while a sitting's candidates start together: a
// fifth of the server's processor time at the start of a 2,000-candidate sitting was compressing the
// papers (docs/scaling.md). The compress middleware leaves an answer with a Content-Encoding alone.
func sendPaper(c *fiber.Ctx, appendJSON func([]byte) ([]byte, error), appendGzip func([]byte) ([]byte, bool, error)) error {
	c.Vary(fiber.HeaderAcceptEncoding)
	if !c.Context().Request.Header.HasAcceptEncoding("gzip") {
		return sendJSON(c, appendJSON)
	}
	b, ok, err := appendGzip(make([]byte, 0, 4<<10))
	if err != nil {
		return err
	}
	if !ok {
		return sendJSON(c, appendJSON)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderContentEncoding, "gzip")
	return c.Send(b)
}

// startedSchema is exams.Started's schema with its paper declared as the paper route's (see paperView).
func startedSchema() map[string]any {
	s := schemaOf[exams.Started]()
	s["properties"].(map[string]any)["paper"] = schemaOf[paperView]()
	return s
}

// A sitting ends with every candidate pressing 交卷 in the same second, and a submit is the heaviest
// request of an exam (it marks the paper). Let all of them compete for the database pool and a
// burst of 2,000 waits past the pool's acquire bound (SHANYU_DB_ACQUIRE_TIMEOUT): some are refused
// with 503 and the saves arriving meanwhile wait behind them (`shanyu bench exam`). So submits take
// a slot first: at most half the pool's connections mark papers at once, the others wait their turn
// here, in arrival order as the channel hands out slots, for at most submitQueueWait (then 503 with
// Retry-After, which the exam page retries), and saves and polls keep the rest of the pool.
const submitQueueWait = 30 * time.Second

// submitSlots is how many submits run at once: half the pool, at least one.
func submitSlots(pool *pgxpool.Pool) int {
	if pool == nil {
		return 1
	}
	return max(1, int(pool.Config().MaxConns)/2)
}

// submitSlot waits for a submit slot; release gives it back.
func (s *Server) submitSlot(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(s.submitWait)
	defer t.Stop()
	select {
	case s.submitting <- struct{}{}:
		return func() { <-s.submitting }, nil
	case <-t.C:
		return nil, fmt.Errorf("no submit slot within %v: %w", s.submitWait, pg.ErrBusy) // 503 error.busy, as a pool wait (errors.go)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
