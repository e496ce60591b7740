package migrations

// Owners declares which package owns the tables a migration range creates: a migration numbered
// 0100–0199 belongs to accounts, and so on. Only the owner's SQL may name those tables
// (TestDomainsReadOnlyTheirOwnTables); others read them through the owner's exported functions.
// "platform" tables (settings, the job queue's) may be used by any package.
var Owners = []struct {
	From, To int
	Owner    string
}{
	{0, 99, "platform"},
	{100, 199, "accounts"},
	{200, 299, "curriculum"},
	{300, 399, "exams"}, // the question bank lives in the exams package
	{400, 499, "exams"},
	{500, 599, "certificates"},
	{600, 699, "audits"},
}

// Owner returns the package owning a migration's tables, or "" when no range holds the version.
func Owner(version int) string {
	for _, r := range Owners {
		if version >= r.From && version <= r.To {
			return r.Owner
		}
	}
	return ""
}
