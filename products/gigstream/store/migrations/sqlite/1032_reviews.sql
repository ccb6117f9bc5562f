-- Reviews after completion: the buyer reviews the seller (overall,
-- communication, service as described, would recommend), the seller
-- reviews the buyer (overall); one each per order; the seller may reply
-- once to the buyer's review. A gig's rating_x100/rating_count follow its
-- reviews of the seller.
CREATE TABLE reviews (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  subject TEXT NOT NULL CHECK (subject IN ('seller', 'buyer')),
  reviewer_id TEXT NOT NULL REFERENCES accounts(id),
  reviewee_id TEXT NOT NULL REFERENCES accounts(id),
  gig_id TEXT NOT NULL REFERENCES gigs(id),
  overall INTEGER NOT NULL CHECK (overall BETWEEN 1 AND 5),
  communication INTEGER CHECK (communication BETWEEN 1 AND 5),
  as_described INTEGER CHECK (as_described BETWEEN 1 AND 5),
  recommend BOOLEAN,
  comment TEXT NOT NULL DEFAULT '',
  reply TEXT,
  replied_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (order_id, subject),
  CHECK (subject = 'buyer' OR (communication IS NOT NULL AND as_described IS NOT NULL AND recommend IS NOT NULL)),
  CHECK (reply IS NULL OR subject = 'seller')
);
CREATE INDEX idx_reviews_reviewee ON reviews(reviewee_id, subject, created_at);
CREATE INDEX idx_reviews_gig ON reviews(gig_id, subject, created_at);
