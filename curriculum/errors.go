package curriculum

import "shanyu/internal/failure"

// Errors of the curriculum domain; the server translates their keys.
var (
	ErrCourseNotFound   = failure.New(failure.NotFound, "curriculum.course_not_found")
	ErrLessonNotFound   = failure.New(failure.NotFound, "curriculum.lesson_not_found")
	ErrVersionNotFound  = failure.New(failure.NotFound, "curriculum.version_not_found")
	ErrNotPublished     = failure.New(failure.Conflict, "curriculum.course_not_published")
	ErrNothingToPublish = failure.New(failure.Conflict, "curriculum.nothing_to_publish")
	ErrAlreadyEnrolled  = failure.New(failure.Conflict, "curriculum.already_enrolled")
	ErrNotEnrolled      = failure.New(failure.Forbidden, "curriculum.not_enrolled")
	ErrLessonNotOpened  = failure.New(failure.Conflict, "curriculum.lesson_not_opened")
	ErrEntryNotFound    = failure.New(failure.NotFound, "curriculum.entry_not_found")
	ErrOverCorrection   = failure.New(failure.Invalid, "curriculum.correction_below_zero")

	ErrSessionNotFound  = failure.New(failure.NotFound, "curriculum.session_not_found")
	ErrAlreadySignedUp  = failure.New(failure.Conflict, "curriculum.already_signed_up")
	ErrCodeInvalid      = failure.New(failure.Invalid, "curriculum.code_invalid")
	ErrCodeExpired      = failure.New(failure.Invalid, "curriculum.code_expired")
	ErrCodeReplayed     = failure.New(failure.Conflict, "curriculum.code_replayed")
	ErrCodeOtherSession = failure.New(failure.Invalid, "curriculum.code_other_session")
	ErrNotSignedUp      = failure.New(failure.Forbidden, "curriculum.not_signed_up")
	ErrOnWaitingList    = failure.New(failure.Forbidden, "curriculum.on_waiting_list")
	ErrAlreadyAttended  = failure.New(failure.Conflict, "curriculum.already_checked_out")
	ErrNotCheckedIn     = failure.New(failure.Conflict, "curriculum.not_checked_in")
)

// tooSoon says how many seconds of study are still needed before the lesson can be completed.
func tooSoon(remaining int) error {
	return failure.New(failure.Conflict, "curriculum.lesson_too_soon", remaining)
}
