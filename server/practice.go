package server

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"shanyu/exams"
	"shanyu/exams/bank"
	"shanyu/internal/failure"
)

// routesPractice registers practice (a centre's open categories answered one item at a time with
// feedback, in the exam's player) and the review of one's wrong answers after publication. A
// learner's practice run and review are theirs only: another learner is told they do not exist.
func (s *Server) routesPractice() {
	take, look := can("exams.take", "write"), can("exams.take", "read")
	s.page("GET", "/exams/practice", look, scopeOwn, s.practicePage)
	s.page("POST", "/exams/practice", take, scopeOwn, s.practiceStartSubmit)
	s.page("GET", "/exams/practice/:id", take, byPracticeRun("id"), s.practiceRunPage)
	s.page("GET", "/exams/practice/:id/images/:position/:name", look, byPracticeRun("id"), s.practiceImage)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/practice-runs/:id", Scope: byPracticeRun("id"), Summary: "My practice run: its score and the item waiting for an answer", Tag: "exams",
		Perm: take, Response: schemaOf[exams.PracticeView]()}, s.apiPractice)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/practice-runs/:id/next", Scope: byPracticeRun("id"), Summary: "Draw the next practice item (the waiting one if it is not answered)", Tag: "exams",
		Perm: take, Response: schemaOf[exams.PracticeView]()}, s.apiPracticeNext)
	s.api(apiRoute{Method: "POST", Path: "/api/v1/practice-runs/:id/answers", Scope: byPracticeRun("id"), Summary: "Answer the waiting practice item: feedback, the right answer and the running score; counts for nothing", Tag: "exams",
		Perm: take, Request: object([]string{"item", "response"}, map[string]any{"item": examInt, "response": anyJSON}), Response: schemaOf[exams.PracticeFeedback]()}, s.apiPracticeAnswer)
	s.page("GET", "/exams/attempts/:id/review", look, byAttempt("id"), s.reviewPage)
	s.api(apiRoute{Method: "GET", Path: "/api/v1/attempts/:id/review", Scope: byAttempt("id"), Summary: "My wrong answers with the right ones, once my result is published and the session allows it", Tag: "exams",
		Perm: look, Response: schemaOf[exams.Review]()}, s.apiReview)

	s.page("POST", "/centres/:code/exams/practice", can("bank.items", "write"), byOrg("code"), s.practiceOpenSubmit)
	s.page("POST", "/exams/sessions/:id/review", can("exams.results", "write"), byExamSession("id"), s.reviewSettingSubmit)
}

// practicePool is a line of the practice page: the category and its centre's name.
type practicePool struct {
	exams.PracticePool
	Centre string
}

func (s *Server) practicePage(c *fiber.Ctx) error {
	return s.renderPractice(c, "")
}

// renderPractice shows the practice page, with message when a start was refused.
func (s *Server) renderPractice(c *fiber.Ctx, message string) error {
	ctx := c.UserContext()
	pools, err := s.domains.Exams.PracticePools(ctx, 0)
	if err != nil {
		return err
	}
	ids := make([]int64, len(pools))
	for i, p := range pools {
		ids[i] = p.CentreID
	}
	centres, err := s.accounts.Organisations(ctx, ids) // one query for every centre, as the pools are one
	if err != nil {
		return err
	}
	rows := make([]practicePool, len(pools))
	for i, p := range pools {
		rows[i] = practicePool{PracticePool: p, Centre: centres[p.CentreID].Name}
	}
	runs, err := s.domains.Exams.MyPracticeRuns(ctx, personOf(c))
	if err != nil {
		return err
	}
	return s.render(c, "practice", page{Title: s.i18n.T(langOf(c), "exams.practice.title"), Data: fiber.Map{"Pools": rows, "Runs": runs, "Message": message}})
}

func (s *Server) practiceStartSubmit(c *fiber.Ctx) error {
	category, err := strconv.ParseInt(c.FormValue("category"), 10, 64)
	if err != nil || category <= 0 {
		return failure.Field("category", "exams.practice.category_unknown")
	}
	r, err := s.domains.Exams.StartPractice(c.UserContext(), personOf(c), category)
	// A refused start (too many in the hour, nothing left to practise) is told on the practice page,
	// with its status (429 with Retry-After, 409).
	if f, ferr := s.failedForm(c, err, "category"); ferr != nil {
		return ferr
	} else if f != nil {
		return s.renderPractice(c, f.First())
	}
	return c.Redirect(fmt.Sprintf("/exams/practice/%d", r.ID), fiber.StatusSeeOther)
}

// ownRecord reads the signed-in person's own record named by the path's id (a practice run, the
// review of an attempt) with get, which refuses anyone else's; the answer is never cached.
func ownRecord[T any](c *fiber.Ctx, get func(ctx context.Context, id, personID int64) (T, error)) (T, error) {
	id, err := idParam(c, "id")
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := get(c.UserContext(), id, personOf(c))
	if err == nil {
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	return v, err
}

func (s *Server) practiceRunPage(c *fiber.Ctx) error {
	v, err := ownRecord(c, s.domains.Exams.Practice)
	if err != nil {
		return err
	}
	return s.render(c, "practice_run", page{Title: s.i18n.T(langOf(c), "exams.practice.title"), Data: fiber.Map{"Run": v.Run}})
}

func (s *Server) practiceImage(c *fiber.Ctx) error {
	return questionImage(c, s.domains.Exams.PracticeImage)
}

// questionImage answers the image a path names (the attempt's or run's id, the position, the
// file name), as get finds it for the signed-in person, private to them.
func questionImage(c *fiber.Ctx, get func(ctx context.Context, id, personID int64, position int, name string) (bank.Image, error)) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	position, err := strconv.Atoi(c.Params("position"))
	if err != nil {
		return exams.ErrNotFound
	}
	name, err := url.PathUnescape(c.Params("name"))
	if err != nil {
		return exams.ErrNotFound
	}
	im, err := get(c.UserContext(), id, personOf(c), position, name)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, im.MediaType)
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(im.Data)
}

func (s *Server) apiPractice(c *fiber.Ctx) error {
	return s.practiceView(c, s.domains.Exams.Practice)
}

func (s *Server) apiPracticeNext(c *fiber.Ctx) error {
	return s.practiceView(c, s.domains.Exams.PracticeNext)
}

func (s *Server) practiceView(c *fiber.Ctx, get func(ctx context.Context, runID, personID int64) (exams.PracticeView, error)) error {
	v, err := ownRecord(c, get)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

type practiceAnswerBody struct {
	Item     int          `json:"item"`
	Response exams.Answer `json:"response"`
}

func (s *Server) apiPracticeAnswer(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b practiceAnswerBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	fb, err := s.domains.Exams.AnswerPractice(c.UserContext(), id, personOf(c), b.Item, b.Response)
	if err != nil {
		return err
	}
	return c.JSON(fb)
}

func (s *Server) reviewPage(c *fiber.Ctx) error {
	r, err := ownRecord(c, s.domains.Exams.ReviewAttempt)
	if err != nil {
		return err
	}
	return s.render(c, "exam_review", page{Title: s.i18n.T(langOf(c), "exams.review.title"), Data: fiber.Map{"Review": r}})
}

func (s *Server) apiReview(c *fiber.Ctx) error {
	r, err := ownRecord(c, s.domains.Exams.ReviewAttempt)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// practiceOpenSubmit opens (open=true) or closes a category of the centre's bank for practice.
func (s *Server) practiceOpenSubmit(c *fiber.Ctx) error {
	org, err := s.accounts.OrganisationByCode(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	if err := s.allowedIn(c, "bank.items", "write", org.Domains()...); err != nil {
		return err
	}
	category, err := strconv.ParseInt(c.FormValue("category"), 10, 64)
	if err != nil || category <= 0 {
		return failure.Field("category", "exams.practice.category_unknown")
	}
	open := c.FormValue("open") == "true"
	if err := s.domains.Exams.OpenPractice(c.UserContext(), principalOf(c).User.ID, org.ID, category, open); err != nil {
		return err
	}
	done := "exams.practice.closed_done"
	if open {
		done = "exams.practice.opened_done"
	}
	return c.Redirect(fmt.Sprintf("/centres/%s/exams?done=%s", url.PathEscape(org.Code), done), fiber.StatusSeeOther)
}

// reviewSettingSubmit lets a session's candidates review their wrong answers once published, or not.
func (s *Server) reviewSettingSubmit(c *fiber.Ctx) error {
	x, err := s.sessionParam(c, "exams.results", "write")
	if err != nil {
		return err
	}
	allow := c.FormValue("allow") == "true"
	if err := s.domains.Exams.AllowReview(c.UserContext(), principalOf(c).User.ID, x.ID, allow); err != nil {
		return err
	}
	done := "exams.review.off_done"
	if allow {
		done = "exams.review.on_done"
	}
	return c.Redirect(fmt.Sprintf("/exams/sessions/%d/results?done=%s", x.ID, done), fiber.StatusSeeOther)
}

// practiceCategory is a category of a centre's bank on the centre's exams page, with whether it is
// open for practice.
type practiceCategory struct {
	bank.Category
	Open bool
}

// practiceCategories lists the centre's bank categories for the practice form (none for a caller
// who may not edit the bank).
func (s *Server) practiceCategories(c *fiber.Ctx, centreID int64) ([]practiceCategory, error) {
	cats, err := bank.Categories(c.UserContext(), s.pool, centreID)
	if err != nil {
		return nil, err
	}
	pools, err := s.domains.Exams.PracticePools(c.UserContext(), centreID)
	if err != nil {
		return nil, err
	}
	open := map[int64]bool{}
	for _, p := range pools {
		open[p.CategoryID] = true
	}
	out := make([]practiceCategory, len(cats))
	for i, k := range cats {
		out[i] = practiceCategory{Category: k, Open: open[k.ID]}
	}
	return out, nil
}
