-- When the user accepted the Terms of Service and Privacy Policy at
-- sign-up; NULL for accounts created before acceptance was asked for.
ALTER TABLE real_users ADD COLUMN terms_accepted_at TIMESTAMPTZ;
