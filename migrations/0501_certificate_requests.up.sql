-- certificates: issuance requests. The exams domain records one, in the transaction that publishes a
-- passing result; a background job turns it into a certificate. One request per result, ever.
CREATE TABLE certificate_requests (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	result_ref      text NOT NULL UNIQUE,
	person_id       bigint NOT NULL REFERENCES people (id),
	centre_id       bigint NOT NULL REFERENCES organisations (id),
	occupation_code text NOT NULL,
	level           integer NOT NULL CHECK (level BETWEEN 1 AND 5),
	passed_on       date NOT NULL,
	hours           numeric(7, 1) NOT NULL DEFAULT 0,
	requested_at    timestamptz NOT NULL DEFAULT now(),
	status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'issued', 'failed')),
	certificate_id  bigint,
	error           text NOT NULL DEFAULT ''
);
CREATE INDEX certificate_requests_pending ON certificate_requests (centre_id) WHERE status = 'pending';
