DROP TABLE IF EXISTS hours_ledger, checkin_redemptions, session_signups, practical_sessions, lesson_progress,
	enrolments, lessons, course_modules;
ALTER TABLE IF EXISTS courses DROP CONSTRAINT IF EXISTS courses_published_version_id_fkey;
DROP TABLE IF EXISTS course_versions, courses;
DROP FUNCTION IF EXISTS hours_ledger_append_only();
