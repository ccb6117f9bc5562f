-- The back office's live figures count recent gifts by time.
CREATE INDEX idx_gift_sends_created ON gift_sends(created_at);
