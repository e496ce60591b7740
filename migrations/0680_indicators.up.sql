-- The plan's indicators (一张网): the data they need that no other domain holds, the targets per
-- year, and a monthly snapshot of every indicator per region for the trend.

-- Resident population of a region (county level and above) in a year. demo marks made-up figures.
CREATE TABLE audit_region_population (
	region_code text NOT NULL REFERENCES regions (code),
	year        integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
	population  bigint NOT NULL CHECK (population BETWEEN 0 AND 2000000000),
	demo        boolean NOT NULL DEFAULT false,
	set_by      bigint REFERENCES users (id),
	set_at      timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (region_code, year)
);

-- Townships and streets (乡镇/街道) with their GB/T 2260-based codes, under a county.
CREATE TABLE audit_townships (
	code        text PRIMARY KEY CHECK (code ~ '^[0-9]{9}([0-9]{3})?$'),
	name        text NOT NULL CHECK (name <> ''),
	county_code text NOT NULL REFERENCES regions (code)
);
CREATE INDEX audit_townships_county ON audit_townships (county_code);

-- An institution's places (托位) as filed for the plan: of which 普惠, its township, its "5+X" kind.
CREATE TABLE audit_institution_places (
	organisation_id bigint PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
	places          integer NOT NULL CHECK (places BETWEEN 0 AND 100000),
	puhui_places    integer NOT NULL CHECK (puhui_places >= 0 AND puhui_places <= places),
	township_code   text REFERENCES audit_townships (code),
	kind            text NOT NULL CHECK (kind IN ('public', 'community', 'employer', 'kindergarten', 'home', 'other')),
	demo            boolean NOT NULL DEFAULT false,
	set_by          bigint REFERENCES users (id),
	set_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_institution_places_township ON audit_institution_places (township_code);

-- The plan's targets, per year; a year without a row takes the latest earlier one.
CREATE TABLE audit_indicator_targets (
	year              integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
	places_per_1000   double precision NOT NULL CHECK (places_per_1000 BETWEEN 0 AND 1000),
	puhui_share       double precision NOT NULL CHECK (puhui_share BETWEEN 0 AND 1),
	township_coverage double precision NOT NULL CHECK (township_coverage BETWEEN 0 AND 1),
	qualified_ratio   double precision NOT NULL CHECK (qualified_ratio BETWEEN 0 AND 1),
	set_by            bigint REFERENCES users (id),
	set_at            timestamptz NOT NULL DEFAULT now()
);
-- Zhejiang's 14th Five-Year childcare plan for 2025 (standards.md §1): 4.5 places per 1,000, more
-- than 60 % 普惠, an institution in (nearly) every township; every post held by a qualified person.
INSERT INTO audit_indicator_targets (year, places_per_1000, puhui_share, township_coverage, qualified_ratio)
VALUES (2025, 4.5, 0.6, 1.0, 1.0);

-- One value per month, region and indicator; the unique key makes a month's snapshot happen once.
CREATE TABLE audit_indicator_snapshots (
	month       date NOT NULL CHECK (extract(day FROM month) = 1),
	region_code text NOT NULL REFERENCES regions (code),
	indicator   text NOT NULL,
	value       double precision,
	demo        boolean NOT NULL DEFAULT false,
	taken_at    timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (region_code, indicator, month)
);
