// Package exams owns blueprints, exam sessions, registrations, attempts, grading and results; the
// question bank lives in exams/bank. Publishing a passing result records a certificate-issuance
// request in the same transaction. It must not import server, fiber or any HTTP package.
package exams
