-- The instant of the latest failure of each key and window, from which growing delays are measured.
ALTER TABLE login_failures ADD COLUMN last_at timestamptz NOT NULL DEFAULT now();
