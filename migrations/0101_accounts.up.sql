-- accounts: organisations, people, users, sessions, role grants, login throttling and the audit log.

CREATE TABLE organisations (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind        text NOT NULL CHECK (kind IN ('commission', 'training_centre', 'institution')),
	code        text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{1,31}$'),
	name        text NOT NULL CHECK (name <> ''),
	name_en     text NOT NULL DEFAULT '',
	region_code text NOT NULL REFERENCES regions (code),
	address     text NOT NULL DEFAULT '',
	-- institutions: unified social credit code (GB 32100) and their "5+X" type
	credit_code      text UNIQUE,
	institution_type text CHECK (institution_type IN ('public', 'community', 'employer', 'kindergarten', 'home', 'other')),
	-- institutions: licensed places by class type, e.g. {"infant": 10, "toddler_young": 15}
	licensed_places  jsonb NOT NULL DEFAULT '{}',
	created_at  timestamptz NOT NULL DEFAULT now(),
	CHECK ((kind = 'institution') = (institution_type IS NOT NULL))
);
CREATE INDEX organisations_region ON organisations (region_code);

-- Training bases (实训基地) belong to a training centre.
CREATE TABLE training_bases (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organisation_id bigint NOT NULL REFERENCES organisations (id),
	name            text NOT NULL CHECK (name <> ''),
	address         text NOT NULL DEFAULT '',
	region_code     text NOT NULL REFERENCES regions (code)
);

-- A person is a human being; the citizen ID number is stored encrypted (AES-GCM) with a keyed hash
-- (HMAC-SHA-256) for look-ups and its last 4 characters for masked display.
CREATE TABLE people (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name           text NOT NULL CHECK (name <> ''),
	phone          text NOT NULL DEFAULT '',
	id_number_enc  bytea,
	id_number_hash bytea UNIQUE,
	id_last4       text NOT NULL DEFAULT '',
	birth_date     date,
	gender         text CHECK (gender IN ('male', 'female')),
	photo          bytea,
	photo_type     text,
	created_at     timestamptz NOT NULL DEFAULT now(),
	CHECK ((id_number_enc IS NULL) = (id_number_hash IS NULL))
);

CREATE TABLE users (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	person_id      bigint NOT NULL UNIQUE REFERENCES people (id),
	username       text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
	password_hash  text NOT NULL,
	language       text NOT NULL DEFAULT 'zh-CN' CHECK (language IN ('zh-CN', 'en')),
	disabled_at    timestamptz,
	must_change_password boolean NOT NULL DEFAULT false,
	password_changed_at  timestamptz NOT NULL DEFAULT now(),
	created_at     timestamptz NOT NULL DEFAULT now()
);

-- Sessions: only the SHA-256 of the random token is stored.
CREATE TABLE sessions (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	token_hash   bytea NOT NULL UNIQUE,
	user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	csrf_token   text NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL,
	revoked_at   timestamptz,
	ip           text NOT NULL DEFAULT '',
	user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

-- Role grants: (user, role, domain). The domain is an organisation ("org:HZ001") or a region ("region:3301").
CREATE TABLE role_grants (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       text NOT NULL CHECK (role IN ('caregiver', 'trainer', 'examiner', 'centre_admin',
	                                          'institution_admin', 'inspector', 'regulator_admin')),
	domain     text NOT NULL CHECK (domain ~ '^(org:[A-Z0-9_-]+|region:[0-9]{2,6}|\*)$'),
	granted_by bigint REFERENCES users (id),
	granted_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (user_id, role, domain)
);

-- Failed-login counters shared by every replica: one row per key (account or client address) and window.
CREATE TABLE login_failures (
	key          text NOT NULL,
	window_start timestamptz NOT NULL,
	failures     integer NOT NULL DEFAULT 0,
	PRIMARY KEY (key, window_start)
);

-- The audit log is append-only and hash-chained: each row holds the hash of the previous one.
CREATE TABLE audit_log (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         timestamptz NOT NULL DEFAULT now(),
	actor_id   bigint,
	action     text NOT NULL,
	subject    text NOT NULL DEFAULT '',
	details    jsonb NOT NULL DEFAULT '{}',
	ip         text NOT NULL DEFAULT '',
	prev_hash  bytea NOT NULL,
	hash       bytea NOT NULL UNIQUE
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Casbin access policy rules (p, g lines) for the access model; changes are announced with NOTIFY.
CREATE TABLE access_rules (
	id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ptype text NOT NULL,
	v0 text NOT NULL DEFAULT '', v1 text NOT NULL DEFAULT '', v2 text NOT NULL DEFAULT '',
	v3 text NOT NULL DEFAULT '', v4 text NOT NULL DEFAULT '', v5 text NOT NULL DEFAULT '',
	UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);
