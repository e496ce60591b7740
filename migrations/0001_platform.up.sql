-- Platform-wide pieces that no single domain owns.
-- app_settings: small key/value facts about this installation (e.g. when the demo was seeded).
CREATE TABLE app_settings (
	key        text PRIMARY KEY,
	value      jsonb NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);
