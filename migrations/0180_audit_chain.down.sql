-- Back to the hashes in audit_log's own rows, filled in by an UPDATE the trigger allows (0150).
DO $$
DECLARE
	last bigint := pg_sequence_last_value('audit_log_id_seq');
BEGIN
	ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT;
	DROP SEQUENCE audit_log_id_seq;
	ALTER TABLE audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;
	IF last IS NOT NULL THEN
		PERFORM setval(pg_get_serial_sequence('audit_log', 'id'), last);
	END IF;
END $$;
ALTER TABLE audit_log ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
UPDATE audit_log a SET prev_hash = c.prev_hash, hash = c.hash FROM audit_chain c WHERE c.id = a.id;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;
ALTER TABLE audit_log
	ADD CONSTRAINT audit_log_sealed_whole CHECK ((prev_hash IS NULL) = (hash IS NULL)),
	ADD CONSTRAINT audit_log_unsealed_xid CHECK (hash IS NOT NULL OR xid IS NOT NULL);
DROP TABLE audit_chain;
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
		AND (NEW.id, NEW.at, NEW.actor_id, NEW.action, NEW.subject, NEW.details, NEW.ip, NEW.xid)
			IS NOT DISTINCT FROM (OLD.id, OLD.at, OLD.actor_id, OLD.action, OLD.subject, OLD.details, OLD.ip, OLD.xid) THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END $$;
