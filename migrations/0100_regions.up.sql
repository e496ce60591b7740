-- accounts: administrative regions, nested by code prefix (33 → 3301 → 330106).
CREATE TABLE regions (
	code        text PRIMARY KEY CHECK (code ~ '^[0-9]{2}([0-9]{2}([0-9]{2})?)?$'),
	gb_code     text NOT NULL UNIQUE CHECK (gb_code ~ '^[0-9]{6}$'),
	name        text NOT NULL CHECK (name <> ''),
	name_en     text NOT NULL DEFAULT '',
	parent_code text REFERENCES regions (code),
	CHECK ((parent_code IS NULL) = (length(code) = 2)),
	CHECK (parent_code IS NULL OR starts_with(code, parent_code))
);
