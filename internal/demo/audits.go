package demo

import "context"

// seedAudits creates the audits part of the demo (owned by the audits work).
func seedAudits(ctx context.Context, env seedEnv) error { return nil }
