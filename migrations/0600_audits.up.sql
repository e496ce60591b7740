-- audits: class types, classes, rosters and post assignments of childcare institutions, certificates
-- recorded from elsewhere, conduct (persons barred from childcare work), regional qualification rules,
-- inspection rounds, inspections, their scans, head counts and findings.

-- Class types with their size limit and staffing ratio (standards.md §4); seeded from
-- audits/data/class_types.csv, editable by the regulator.
CREATE TABLE audit_class_types (
	code                   text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,31}$'),
	name                   text NOT NULL,
	name_en                text NOT NULL DEFAULT '',
	min_months             integer NOT NULL CHECK (min_months >= 0),
	max_months             integer NOT NULL CHECK (max_months >= min_months),
	max_children           integer NOT NULL CHECK (max_children > 0),
	children_per_caregiver integer NOT NULL CHECK (children_per_caregiver > 0)
);

CREATE TABLE audit_classes (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organisation_id bigint NOT NULL REFERENCES organisations (id),
	name            text NOT NULL CHECK (name <> ''),
	class_type      text NOT NULL REFERENCES audit_class_types (code),
	children        integer NOT NULL CHECK (children BETWEEN 0 AND 1000),
	UNIQUE (organisation_id, name)
);

-- A roster member: a person working at an institution, with the documents every post needs. The name
-- and the last 4 ID characters are the institution's record of whom it employs (shown masked).
CREATE TABLE audit_roster (
	id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organisation_id       bigint NOT NULL REFERENCES organisations (id),
	person_id             bigint NOT NULL REFERENCES people (id),
	name                  text NOT NULL CHECK (name <> ''),
	id_last4              text NOT NULL DEFAULT '',
	health_valid_until    date,
	no_criminal_record_on date,
	created_at            timestamptz NOT NULL DEFAULT now(),
	UNIQUE (organisation_id, person_id)
);
CREATE INDEX audit_roster_person ON audit_roster (person_id);

-- A post held by a roster member, in a class for caregivers.
CREATE TABLE audit_assignments (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	roster_id bigint NOT NULL REFERENCES audit_roster (id) ON DELETE CASCADE,
	post      text NOT NULL CHECK (post ~ '^[a-z][a-z0-9_]{1,31}$'),
	class_id  bigint REFERENCES audit_classes (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX audit_assignments_unique ON audit_assignments (roster_id, post, coalesce(class_id, 0));

-- Certificates from elsewhere (not issued on this platform), recorded by the institution with its
-- evidence; always unverified.
CREATE TABLE audit_external_certificates (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organisation_id bigint NOT NULL REFERENCES organisations (id),
	person_id       bigint NOT NULL REFERENCES people (id),
	number          text NOT NULL CHECK (number <> ''),
	occupation      text NOT NULL CHECK (occupation <> ''),
	level           integer NOT NULL CHECK (level BETWEEN 1 AND 5),
	expires_on      date,
	evidence        text NOT NULL CHECK (evidence <> ''),
	recorded_by     bigint NOT NULL REFERENCES users (id),
	created_at      timestamptz NOT NULL DEFAULT now(),
	UNIQUE (person_id, number)
);
CREATE INDEX audit_external_certificates_number ON audit_external_certificates (upper(number));
CREATE INDEX audit_external_certificates_organisation ON audit_external_certificates (organisation_id);

-- 从业禁止: a person barred from childcare work. Only the regulator reads the record itself.
CREATE TABLE audit_barred_persons (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	person_id   bigint NOT NULL REFERENCES people (id),
	legal_basis text NOT NULL CHECK (legal_basis <> ''),
	authority   text NOT NULL CHECK (authority <> ''),
	starts_on   date NOT NULL,
	ends_on     date,
	evidence    text NOT NULL CHECK (evidence <> ''),
	recorded_by bigint NOT NULL REFERENCES users (id),
	created_at  timestamptz NOT NULL DEFAULT now(),
	CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX audit_barred_persons_person ON audit_barred_persons (person_id);

-- Regional qualification rules added by the regulator: policy lines on top of the default file.
CREATE TABLE audit_qualification_rules (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	line       text NOT NULL UNIQUE CHECK (line ~ '^[pg], '),
	note       text NOT NULL DEFAULT '',
	created_by bigint NOT NULL REFERENCES users (id),
	created_at timestamptz NOT NULL DEFAULT now()
);

-- Conflicts of interest: an inspector must not inspect these institutions.
CREATE TABLE audit_inspector_conflicts (
	user_id         bigint NOT NULL REFERENCES users (id),
	organisation_id bigint NOT NULL REFERENCES organisations (id),
	reason          text NOT NULL DEFAULT '',
	PRIMARY KEY (user_id, organisation_id)
);

-- A round of random inspections (双随机): its inputs, seed and input digest make the draw reproducible.
CREATE TABLE audit_rounds (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	region_code    text NOT NULL REFERENCES regions (code),
	name           text NOT NULL CHECK (name <> ''),
	seed           bigint NOT NULL,
	target_count   integer NOT NULL CHECK (target_count >= 0),
	per_inspection integer NOT NULL CHECK (per_inspection >= 2),
	risk_weighted  boolean NOT NULL DEFAULT true,
	input          jsonb NOT NULL,
	input_digest   text NOT NULL,
	created_by     bigint NOT NULL REFERENCES users (id),
	created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_inspections (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	round_id        bigint NOT NULL REFERENCES audit_rounds (id),
	organisation_id bigint NOT NULL REFERENCES organisations (id),
	status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'finished')),
	passed          boolean,
	summary         jsonb NOT NULL DEFAULT '{}',
	finished_at     timestamptz,
	UNIQUE (round_id, organisation_id)
);

CREATE TABLE audit_inspection_inspectors (
	inspection_id bigint NOT NULL REFERENCES audit_inspections (id) ON DELETE CASCADE,
	user_id       bigint NOT NULL REFERENCES users (id),
	signed_at     timestamptz,
	PRIMARY KEY (inspection_id, user_id)
);
CREATE INDEX audit_inspection_inspectors_user ON audit_inspection_inspectors (user_id);

-- A certificate checked on site. client_id is generated by the phone, so a scan recorded offline and
-- sent again when the network returns is stored once.
CREATE TABLE audit_scans (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	inspection_id bigint NOT NULL REFERENCES audit_inspections (id) ON DELETE CASCADE,
	client_id     text NOT NULL CHECK (client_id ~ '^[A-Za-z0-9_-]{8,64}$'),
	code          text NOT NULL,
	roster_id     bigint REFERENCES audit_roster (id) ON DELETE SET NULL,
	verified      boolean NOT NULL DEFAULT false,
	result        jsonb NOT NULL DEFAULT '{}',
	scanned_by    bigint NOT NULL REFERENCES users (id),
	scanned_at    timestamptz NOT NULL,
	received_at   timestamptz NOT NULL DEFAULT now(),
	UNIQUE (inspection_id, client_id)
);

CREATE TABLE audit_headcounts (
	inspection_id bigint NOT NULL REFERENCES audit_inspections (id) ON DELETE CASCADE,
	class_id      bigint NOT NULL REFERENCES audit_classes (id) ON DELETE CASCADE,
	children      integer NOT NULL CHECK (children BETWEEN 0 AND 1000),
	caregivers    integer NOT NULL CHECK (caregivers BETWEEN 0 AND 100),
	PRIMARY KEY (inspection_id, class_id)
);

CREATE TABLE audit_findings (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	inspection_id bigint NOT NULL REFERENCES audit_inspections (id) ON DELETE CASCADE,
	severity      text NOT NULL CHECK (severity IN ('info', 'minor', 'major')),
	note          text NOT NULL CHECK (note <> ''),
	created_by    bigint NOT NULL REFERENCES users (id),
	created_at    timestamptz NOT NULL DEFAULT now()
);
