-- Gigs a buyer saved for later, shown on the buyer's dashboard.
CREATE TABLE favourites (
  account_id TEXT NOT NULL REFERENCES accounts(id),
  gig_id TEXT NOT NULL REFERENCES gigs(id),
  created_at TEXT NOT NULL,
  PRIMARY KEY (account_id, gig_id)
);
CREATE INDEX idx_favourites_recent ON favourites(account_id, created_at DESC);
