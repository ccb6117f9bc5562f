-- SQLite flavour of ../postgres/1078_agency_details.sql (same columns).
-- An agency application's details (6.1): a square logo (its URL), phone,
-- address and referrer ID, and the owner's ID front and back images,
-- stored sealed (AES-256-GCM, nonce first; the key is the server's, never
-- in the database) and opened only for staff who approve agencies.
ALTER TABLE agencies ADD COLUMN logo_url TEXT NOT NULL DEFAULT '';
CREATE TABLE agency_details (
  agency_id TEXT PRIMARY KEY REFERENCES agencies(id),
  phone TEXT NOT NULL,
  address TEXT NOT NULL,
  referrer TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE agency_id_documents (
  agency_id TEXT NOT NULL REFERENCES agencies(id),
  side TEXT NOT NULL CHECK (side IN ('front', 'back')),
  mime TEXT NOT NULL,
  sealed BLOB NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (agency_id, side)
);
