-- Notifications: each row is shown in the bell (when `shown`) and is the
-- realtime outbox for it (seq order); deliveries by email and push are
-- rows of notification_deliveries, written in the same transaction and
-- sent by the delivery job with retries.
CREATE TABLE notifications (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  event TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  link TEXT NOT NULL,
  shown BOOLEAN NOT NULL,
  read_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_notifications_account ON notifications(account_id, seq);

CREATE TABLE notification_preferences (
  account_id TEXT NOT NULL REFERENCES accounts(id),
  event TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('in_app', 'email', 'push')),
  enabled BOOLEAN NOT NULL,
  PRIMARY KEY (account_id, event, channel)
);

CREATE TABLE push_subscriptions (
  endpoint TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  p256dh TEXT NOT NULL,
  auth TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_push_subscriptions_account ON push_subscriptions(account_id);

CREATE TABLE notification_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  notification_seq INTEGER NOT NULL REFERENCES notifications(seq),
  channel TEXT NOT NULL CHECK (channel IN ('email', 'push')),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at TEXT NOT NULL,
  claimed_until TEXT,
  last_error TEXT,
  sent_at TEXT,
  UNIQUE (notification_seq, channel)
);
CREATE INDEX idx_notification_deliveries_due ON notification_deliveries(status, next_at);
