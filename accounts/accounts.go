// Package accounts owns who is who and where: regions (GB/T 2260, nested by code prefix),
// organisations, people, user accounts, sessions and role grants. It owns the SQL of those tables and
// must not import server, fiber or any other HTTP package; other domains ask it through its exported
// functions.
package accounts
