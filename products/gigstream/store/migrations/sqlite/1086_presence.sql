-- Online status: one row per open realtime socket (refreshed on each
-- ping, deleted when it closes); last_seen keeps when a person's socket
-- last closed.
CREATE TABLE presence_sockets (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  refreshed_at TEXT NOT NULL
);
CREATE INDEX idx_presence_sockets_account ON presence_sockets(account_id, refreshed_at);

CREATE TABLE last_seen (
  account_id TEXT PRIMARY KEY REFERENCES accounts(id),
  seen_at TEXT NOT NULL
);
