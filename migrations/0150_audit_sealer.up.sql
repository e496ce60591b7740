-- The audit chain is sealed off the write path (#17): writers append rows without prev_hash and hash,
-- recording the id of the transaction that inserts them; one sealer later fills both in, in id order,
-- only for rows that no transaction still in flight can precede (accounts/audit_seal.go). Rows
-- already in the log were chained when written and stay as they are, with no xid (the column is
-- added without a default first, so that the table is not rewritten). The identity sequence must
-- keep handing out ids one at a time (no CACHE): the sealer reads its last value.
ALTER TABLE audit_log
	ADD COLUMN xid xid8,
	ALTER COLUMN prev_hash DROP NOT NULL,
	ALTER COLUMN hash DROP NOT NULL,
	ADD CONSTRAINT audit_log_sealed_whole CHECK ((prev_hash IS NULL) = (hash IS NULL)),
	ADD CONSTRAINT audit_log_unsealed_xid CHECK (hash IS NOT NULL OR xid IS NOT NULL);
ALTER TABLE audit_log ALTER COLUMN xid SET DEFAULT pg_current_xact_id();

-- The sealer's work list: the few rows not chained yet.
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE hash IS NULL;

-- Still append-only, with one exception: sealing, i.e. filling in prev_hash and hash of a row that has
-- neither, leaving everything else as it was. A sealed row cannot change, and the chain tells if a
-- superuser changes one anyway.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
		AND (NEW.id, NEW.at, NEW.actor_id, NEW.action, NEW.subject, NEW.details, NEW.ip, NEW.xid)
			IS NOT DISTINCT FROM (OLD.id, OLD.at, OLD.actor_id, OLD.action, OLD.subject, OLD.details, OLD.ip, OLD.xid) THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END $$;
