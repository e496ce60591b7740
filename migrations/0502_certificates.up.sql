-- certificates: certificate types, the certificates themselves, their numbering counters, the log of
-- verifications and the counters that rate-limit manual look-ups.

-- A certificate type is an occupation at a level: how long its certificates are valid and how many
-- continuing-education hours within that validity renew one.
CREATE TABLE certificate_types (
	occupation_code text NOT NULL CHECK (occupation_code ~ '^[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}$'),
	level           integer NOT NULL CHECK (level BETWEEN 1 AND 5),
	validity_months integer NOT NULL DEFAULT 36 CHECK (validity_months BETWEEN 1 AND 240),
	renewal_hours   numeric(6, 1) NOT NULL DEFAULT 60 CHECK (renewal_hours >= 0),
	PRIMARY KEY (occupation_code, level)
);
INSERT INTO certificate_types (occupation_code, level)
SELECT o, l FROM unnest(ARRAY['4-10-01-03', '4-10-01-02']) o, generate_series(1, 5) l;

-- One counter row per centre, year and level hands out serials: taking the next one locks the row
-- until the transaction ends, so serials have no gaps and no duplicates under concurrency.
CREATE TABLE certificate_serials (
	centre_id   bigint NOT NULL REFERENCES organisations (id),
	year        integer NOT NULL CHECK (year BETWEEN 2000 AND 2099),
	level       integer NOT NULL CHECK (level BETWEEN 1 AND 5),
	last_serial integer NOT NULL CHECK (last_serial BETWEEN 0 AND 999999),
	PRIMARY KEY (centre_id, year, level)
);

-- Positions in the published W3C Bitstring Status Lists; never reused.
CREATE SEQUENCE certificate_status_index MINVALUE 0 START 0;

-- A certificate. It is created (number and code reserved) in one short transaction and gets its
-- signed PDF in a second one; until then (pdf IS NULL) it is not shown to anyone.
CREATE TABLE certificates (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	request_id        bigint NOT NULL UNIQUE REFERENCES certificate_requests (id),
	number            text NOT NULL UNIQUE CHECK (number ~ '^[YS][0-9]{21}$'),
	code              text NOT NULL UNIQUE CHECK (code ~ '^[a-z2-7]{26}$'),
	person_id         bigint NOT NULL REFERENCES people (id),
	centre_id         bigint NOT NULL REFERENCES organisations (id),
	occupation_code   text NOT NULL,
	level             integer NOT NULL,
	hours             numeric(7, 1) NOT NULL DEFAULT 0,
	-- What the public verification shows, fixed at issuance as printed, so that a verification reads
	-- one row: the holder's masked name, whether a photo was printed, the issuer's names.
	holder_masked     text NOT NULL,
	has_photo         boolean NOT NULL DEFAULT false,
	issuer_name       text NOT NULL,
	issuer_name_en    text NOT NULL DEFAULT '',
	issued_on         date NOT NULL,
	expires_on        date NOT NULL CHECK (expires_on >= issued_on),
	status            text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'suspended', 'revoked')),
	status_reason     text NOT NULL DEFAULT '',
	status_changed_at timestamptz,
	version           integer NOT NULL DEFAULT 1 CHECK (version >= 1),
	status_index      integer NOT NULL UNIQUE DEFAULT nextval('certificate_status_index'),
	key_id            text NOT NULL DEFAULT '',
	token             text NOT NULL DEFAULT '',
	pdf               bytea,
	pdf_sha256        bytea UNIQUE CHECK (length(pdf_sha256) = 32),
	created_at        timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (occupation_code, level) REFERENCES certificate_types,
	CHECK ((pdf IS NULL) = (pdf_sha256 IS NULL)),
	CHECK (status = 'valid' OR status_reason <> '')
);
CREATE INDEX certificates_person ON certificates (person_id);
CREATE INDEX certificates_centre ON certificates (centre_id, issued_on DESC);
CREATE INDEX certificates_expiry ON certificates (expires_on) WHERE status = 'valid';

ALTER TABLE certificate_requests ADD CONSTRAINT certificate_requests_certificate
	FOREIGN KEY (certificate_id) REFERENCES certificates (id);

-- Earlier versions of renewed certificates: a PDF of an earlier version is genuine but superseded.
CREATE TABLE certificate_versions (
	certificate_id bigint NOT NULL REFERENCES certificates (id),
	version        integer NOT NULL,
	issued_on      date NOT NULL,
	expires_on     date NOT NULL,
	pdf_sha256     bytea NOT NULL UNIQUE,
	superseded_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (certificate_id, version)
);

-- Every verification: when, how, what it found, and in which inspection when inside one.
CREATE TABLE certificate_verifications (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at             timestamptz NOT NULL DEFAULT now(),
	method         text NOT NULL CHECK (method IN ('page', 'api', 'lookup', 'pdf')),
	certificate_id bigint REFERENCES certificates (id),
	result         text NOT NULL,
	inspection_ref text NOT NULL DEFAULT '',
	ip             text NOT NULL DEFAULT ''
);
CREATE INDEX certificate_verifications_certificate ON certificate_verifications (certificate_id, at);

-- Manual look-ups per client address in one-minute buckets (as login_failures does for sign-ins).
CREATE TABLE certificate_lookup_attempts (
	key          text NOT NULL,
	window_start timestamptz NOT NULL,
	attempts     integer NOT NULL DEFAULT 0,
	PRIMARY KEY (key, window_start)
);
