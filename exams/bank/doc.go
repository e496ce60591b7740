// Package bank owns the question bank of each training centre: the item model and its scoring rules,
// the GIFT, Moodle XML and Excel importers and exporters, and the tables that store categories, tags,
// items and their versions. The exams domain reads delivered versions and scores responses through the
// exported functions here; nothing else touches the bank's tables. It must not import server, fiber or
// any HTTP package.
package bank
