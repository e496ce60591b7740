-- Ordering items (QTI's order interaction): one more item type. The sequence lives in the version's
-- JSON content like every other type's answers.
ALTER TABLE bank_items DROP CONSTRAINT bank_items_type_check;
ALTER TABLE bank_items ADD CONSTRAINT bank_items_type_check CHECK (type IN ('single_choice', 'multiple_choice',
	'true_false', 'fill_blank', 'numeric', 'matching', 'essay', 'practical', 'cloze', 'ordering'));
