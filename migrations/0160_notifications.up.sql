-- accounts: each user's inbox, what was sent of each notification on which channel, and the one-time
-- codes of self-service password reset.

-- A notification is created in the transaction of the event that causes it; dedupe_key names the
-- event ("exam_registration:42:approved", "exam_soon:24h:registration:42"), so an event notifies once.
CREATE TABLE notifications (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind       text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
	dedupe_key text NOT NULL UNIQUE CHECK (length(dedupe_key) BETWEEN 1 AND 200),
	args       text[] NOT NULL DEFAULT '{}',
	link       text NOT NULL DEFAULT '' CHECK (length(link) <= 300),
	created_at timestamptz NOT NULL DEFAULT now(),
	read_at    timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

-- One row per (notification, channel), claimed before the message is sent: a retried job finds the
-- claim and sends nothing again.
CREATE TABLE notification_deliveries (
	notification_id bigint NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
	channel         text NOT NULL CHECK (channel IN ('sms', 'email')),
	address         text NOT NULL,
	claimed_at      timestamptz NOT NULL DEFAULT now(),
	sent_at         timestamptz,
	PRIMARY KEY (notification_id, channel)
);

-- A password-reset code: only its keyed hash is stored; valid until expires_at, used once, void
-- after too many wrong tries.
CREATE TABLE password_resets (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	phone      text NOT NULL,
	code_hash  bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	tries      integer NOT NULL DEFAULT 0,
	used_at    timestamptz,
	voided_at  timestamptz
);
CREATE INDEX password_resets_open ON password_resets (phone, id DESC) WHERE used_at IS NULL AND voided_at IS NULL;
