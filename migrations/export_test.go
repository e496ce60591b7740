package migrations

// UpWith applies a given list of migrations, for tests of the runner itself.
var UpWith = up
