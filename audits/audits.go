// Package audits owns institution rosters, posts and classes, the qualification policy (casbin),
// inspection rounds, inspections and their reports. It asks the certificates domain for a person's
// qualifications and never reads its tables. It must not import server, fiber or any HTTP package.
package audits
