-- GigStream's schema, SQLite flavour; ../postgres mirrors it. Sessions
-- (110) and the ledger's wallets and entries (120) come from the platform.
-- Money is integer minor units of the row's currency; ids are UUIDs as text.

CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  is_admin BOOLEAN NOT NULL DEFAULT FALSE,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TEXT NOT NULL
);

CREATE TABLE seller_profiles (
  account_id TEXT PRIMARY KEY REFERENCES accounts(id),
  headline TEXT NOT NULL DEFAULT '',
  bio TEXT NOT NULL DEFAULT '',
  skills TEXT NOT NULL DEFAULT '[]',
  languages TEXT NOT NULL DEFAULT '[]',
  portfolio TEXT NOT NULL DEFAULT '[]',
  response_hours INTEGER NOT NULL DEFAULT 24 CHECK (response_hours BETWEEN 1 AND 168),
  updated_at TEXT NOT NULL
);

-- The taxonomy: top-level categories (parent NULL) and their subcategories.
CREATE TABLE categories (
  slug TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  parent TEXT REFERENCES categories(slug),
  position INTEGER NOT NULL
);

CREATE TABLE gigs (
  id TEXT PRIMARY KEY,
  seller_id TEXT NOT NULL REFERENCES accounts(id),
  slug TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  category TEXT NOT NULL REFERENCES categories(slug),
  subcategory TEXT REFERENCES categories(slug),
  tags TEXT NOT NULL DEFAULT '[]',
  tags_text TEXT NOT NULL DEFAULT '',
  description_html TEXT NOT NULL,
  description_text TEXT NOT NULL,
  faq TEXT NOT NULL DEFAULT '[]',
  requirements TEXT NOT NULL DEFAULT '[]',
  currency TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'deleted')),
  min_price_minor INTEGER NOT NULL CHECK (min_price_minor > 0),
  min_delivery_days INTEGER NOT NULL CHECK (min_delivery_days > 0),
  rating_x100 INTEGER,
  rating_count INTEGER NOT NULL DEFAULT 0,
  seller_level TEXT NOT NULL DEFAULT 'new',
  orders_completed INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX idx_gigs_seller ON gigs(seller_id, created_at DESC);
CREATE INDEX idx_gigs_newest ON gigs(status, created_at DESC, id DESC);
CREATE INDEX idx_gigs_price ON gigs(status, min_price_minor, id);
CREATE INDEX idx_gigs_category ON gigs(category, status);

CREATE TABLE gig_packages (
  gig_id TEXT NOT NULL REFERENCES gigs(id),
  tier TEXT NOT NULL CHECK (tier IN ('basic', 'standard', 'premium')),
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  price_minor INTEGER NOT NULL CHECK (price_minor > 0),
  delivery_days INTEGER NOT NULL CHECK (delivery_days > 0),
  revisions INTEGER NOT NULL CHECK (revisions >= 0),
  items TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (gig_id, tier)
);

CREATE TABLE gig_images (
  gig_id TEXT NOT NULL REFERENCES gigs(id),
  media_key TEXT NOT NULL,
  content_type TEXT NOT NULL,
  position INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (gig_id, media_key)
);

-- Words of active gigs' titles and tags, for "did you mean" and autocomplete.
CREATE TABLE gig_terms (
  gig_id TEXT NOT NULL REFERENCES gigs(id),
  term TEXT NOT NULL,
  PRIMARY KEY (gig_id, term)
);
CREATE INDEX idx_gig_terms_term ON gig_terms(term);

-- Full text over title (weight 10), tags (5) and description (1). The
-- same query shape runs on PostgreSQL, where gig_fts is a function over a
-- tsvector column: SELECT gig_id, rank FROM gig_fts('word* word2*').
CREATE VIRTUAL TABLE gig_fts USING fts5(gig_id UNINDEXED, title, tags, body, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO gig_fts(gig_fts, rank) VALUES ('rank', 'bm25(0.0, 10.0, 5.0, 1.0)');
CREATE TRIGGER gigs_fts_insert AFTER INSERT ON gigs BEGIN
  INSERT INTO gig_fts(rowid, gig_id, title, tags, body) VALUES (new.rowid, new.id, new.title, new.tags_text, new.description_text);
END;
CREATE TRIGGER gigs_fts_update AFTER UPDATE OF title, tags_text, description_text ON gigs BEGIN
  DELETE FROM gig_fts WHERE rowid = old.rowid;
  INSERT INTO gig_fts(rowid, gig_id, title, tags, body) VALUES (new.rowid, new.id, new.title, new.tags_text, new.description_text);
END;
CREATE TRIGGER gigs_fts_delete AFTER DELETE ON gigs BEGIN
  DELETE FROM gig_fts WHERE rowid = old.rowid;
END;

CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  gig_id TEXT NOT NULL REFERENCES gigs(id),
  buyer_id TEXT NOT NULL REFERENCES accounts(id),
  seller_id TEXT NOT NULL REFERENCES accounts(id),
  tier TEXT NOT NULL,
  gig_title TEXT NOT NULL,
  package_name TEXT NOT NULL,
  currency TEXT NOT NULL,
  price_minor INTEGER NOT NULL CHECK (price_minor > 0),
  buyer_fee_minor INTEGER NOT NULL CHECK (buyer_fee_minor >= 0),
  total_minor INTEGER NOT NULL,
  platform_fee_bps INTEGER NOT NULL CHECK (platform_fee_bps BETWEEN 0 AND 10000),
  delivery_days INTEGER NOT NULL,
  revisions_allowed INTEGER NOT NULL,
  revisions_used INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  payment_reference TEXT NOT NULL UNIQUE,
  payment_provider TEXT,
  paid_minor INTEGER NOT NULL DEFAULT 0,
  refunded_minor INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
  released_minor INTEGER NOT NULL DEFAULT 0 CHECK (released_minor >= 0),
  seller_earned_minor INTEGER NOT NULL DEFAULT 0 CHECK (seller_earned_minor >= 0),
  platform_earned_minor INTEGER NOT NULL DEFAULT 0 CHECK (platform_earned_minor >= 0),
  requirements TEXT NOT NULL DEFAULT '[]',
  answers TEXT,
  cancel_requested_by TEXT,
  late BOOLEAN NOT NULL DEFAULT FALSE,
  paid_at TEXT,
  started_at TEXT,
  due_at TEXT,
  first_delivered_at TEXT,
  delivered_at TEXT,
  completed_at TEXT,
  closed_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK (total_minor = price_minor + buyer_fee_minor),
  CHECK (paid_minor IN (0, total_minor)),
  CHECK (refunded_minor + released_minor <= paid_minor),
  CHECK (released_minor = seller_earned_minor + platform_earned_minor)
);
CREATE INDEX idx_orders_buyer ON orders(buyer_id, created_at DESC);
CREATE INDEX idx_orders_seller ON orders(seller_id, created_at DESC);
CREATE INDEX idx_orders_status ON orders(status, delivered_at);

-- Each order's timeline.
CREATE TABLE order_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id TEXT NOT NULL REFERENCES orders(id),
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  actor_id TEXT,
  from_status TEXT NOT NULL,
  to_status TEXT NOT NULL,
  note TEXT,
  amount_minor INTEGER,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_order_events_order ON order_events(order_id, seq);

CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  message TEXT NOT NULL,
  files TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL
);
CREATE INDEX idx_deliveries_order ON deliveries(order_id, created_at);

-- Every payment notification once, by the provider's event id.
CREATE TABLE payment_events (
  provider TEXT NOT NULL,
  event_id TEXT NOT NULL,
  reference TEXT NOT NULL,
  outcome TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (provider, event_id)
);

-- Refunds, once per request key.
CREATE TABLE refunds (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  request_key TEXT NOT NULL UNIQUE,
  reason TEXT NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL
);

CREATE TABLE job_runs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job TEXT NOT NULL,
  node TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  counts TEXT NOT NULL DEFAULT '{}',
  error TEXT
);
CREATE INDEX idx_job_runs_job ON job_runs(job, seq);
