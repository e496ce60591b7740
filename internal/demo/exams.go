package demo

import "context"

// seedExams creates the exams part of the demo (owned by the exams work).
func seedExams(ctx context.Context, env seedEnv) error { return nil }
