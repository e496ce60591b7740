// Package curriculum owns courses, lessons, practical sessions, attendance, enrolments and the
// append-only training-hours ledger. It exposes completed hours per person, occupation and period to
// the exams and certificates domains. It must not import server, fiber or any HTTP package.
package curriculum
