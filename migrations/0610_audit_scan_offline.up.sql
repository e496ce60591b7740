-- A scan made while the phone was offline: verified on the phone from the QR code's signed token,
-- queued, and sent once the network returned.
ALTER TABLE audit_scans ADD COLUMN offline boolean NOT NULL DEFAULT false;
