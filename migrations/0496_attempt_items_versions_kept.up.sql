-- exams: an attempt item's question version is kept by the bank's rule, not by a foreign key.
-- Checking the key share-locked the version's row at every grading; at a deadline 2,000 gradings
-- of papers drawn from one pool share-locked the same few hundred rows, each new holder rewriting a
-- multixact of all of them, and inserting an attempt's items cost 4.5 ms (issue #21: exams at
-- scale). The rule it relied on is now enforced where the versions are: an item's version is on a
-- paper built before it (building marks it delivered), and a delivered version can be neither
-- deleted (nor its item, by cascade: the bank refuses that too, ErrInUse) nor undelivered. Its
-- content stays frozen by bank_item_versions_frozen (0300).
ALTER TABLE exam_attempt_items DROP CONSTRAINT exam_attempt_items_version_id_fkey;

CREATE FUNCTION bank_item_versions_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.delivered_at IS NOT NULL THEN
		IF TG_OP = 'DELETE' THEN
			RAISE EXCEPTION 'bank item version % has been delivered and cannot be deleted', OLD.id
				USING ERRCODE = 'restrict_violation', CONSTRAINT = 'bank_item_versions_kept';
		ELSIF NEW.delivered_at IS NULL THEN
			RAISE EXCEPTION 'bank item version % has been delivered and stays delivered', OLD.id
				USING ERRCODE = 'check_violation', CONSTRAINT = 'bank_item_versions_kept';
		END IF;
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER bank_item_versions_kept BEFORE UPDATE OF delivered_at OR DELETE ON bank_item_versions
	FOR EACH ROW EXECUTE FUNCTION bank_item_versions_kept();
