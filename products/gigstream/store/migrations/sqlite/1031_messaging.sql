-- Messages between buyers and sellers: one inquiry conversation per buyer
-- and seller, one thread per order. conversation_events is the realtime
-- outbox (messages, read receipts, typing signals) in seq order; a
-- message's row in `messages` carries the seq of its event.
CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('inquiry', 'order')),
  buyer_id TEXT NOT NULL REFERENCES accounts(id),
  seller_id TEXT NOT NULL REFERENCES accounts(id),
  gig_id TEXT REFERENCES gigs(id),
  order_id TEXT UNIQUE REFERENCES orders(id),
  subject TEXT NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  last_message_at TEXT,
  created_at TEXT NOT NULL,
  CHECK (buyer_id <> seller_id),
  CHECK ((kind = 'order') = (order_id IS NOT NULL))
);
CREATE UNIQUE INDEX idx_conversations_inquiry ON conversations(buyer_id, seller_id) WHERE kind = 'inquiry';
CREATE INDEX idx_conversations_buyer ON conversations(buyer_id, last_seq);
CREATE INDEX idx_conversations_seller ON conversations(seller_id, last_seq);

CREATE TABLE conversation_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  kind TEXT NOT NULL CHECK (kind IN ('message', 'read', 'typing')),
  actor_id TEXT NOT NULL REFERENCES accounts(id),
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_conversation_events ON conversation_events(conversation_id, seq);

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL UNIQUE,
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  sender_id TEXT NOT NULL REFERENCES accounts(id),
  body TEXT NOT NULL,
  attachments TEXT NOT NULL DEFAULT '[]',
  client_id TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (conversation_id, sender_id, client_id)
);
CREATE INDEX idx_messages_conversation ON messages(conversation_id, seq);

-- Who may fetch an attached file: the parties of its conversation.
CREATE TABLE message_attachments (
  media_key TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES messages(id),
  conversation_id TEXT NOT NULL REFERENCES conversations(id)
);

CREATE TABLE conversation_reads (
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  last_read_seq INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, account_id)
);
