-- Invoices (one per paid order) and credit notes (one per refund), each
-- numbered from its own counter per year. The counter row is taken in the
-- same transaction as the payment or refund, so numbers have no gaps and
-- no duplicates whatever the concurrency. Names, addresses and amounts are
-- kept as issued: a later profile change does not rewrite an invoice.
CREATE TABLE invoice_counters (
  kind TEXT NOT NULL,
  year INTEGER NOT NULL,
  last INTEGER NOT NULL CHECK (last > 0),
  PRIMARY KEY (kind, year)
);

CREATE TABLE invoices (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
  year INTEGER NOT NULL,
  seq INTEGER NOT NULL CHECK (seq > 0),
  number TEXT NOT NULL UNIQUE,
  order_id TEXT NOT NULL REFERENCES orders(id),
  refund_id TEXT UNIQUE REFERENCES refunds(id),
  -- A credit note names the invoice it corrects.
  invoice_number TEXT,
  buyer_id TEXT NOT NULL REFERENCES accounts(id),
  seller_id TEXT NOT NULL REFERENCES accounts(id),
  buyer_name TEXT NOT NULL,
  buyer_email TEXT NOT NULL,
  seller_name TEXT NOT NULL,
  seller_username TEXT NOT NULL,
  description TEXT NOT NULL,
  currency TEXT NOT NULL,
  price_minor INTEGER NOT NULL,
  buyer_fee_minor INTEGER NOT NULL,
  total_minor INTEGER NOT NULL CHECK (total_minor > 0),
  issued_at TEXT NOT NULL,
  -- Set once the PDF is stored, and once it is mailed to the buyer.
  pdf_key TEXT,
  emailed_at TEXT,
  mail_attempts INTEGER NOT NULL DEFAULT 0,
  mail_error TEXT,
  UNIQUE (kind, year, seq),
  CHECK ((kind = 'invoice') = (refund_id IS NULL))
);
CREATE UNIQUE INDEX idx_invoices_one_per_order ON invoices(order_id) WHERE kind = 'invoice';
CREATE INDEX idx_invoices_order ON invoices(order_id, issued_at);
CREATE INDEX idx_invoices_undelivered ON invoices(issued_at) WHERE emailed_at IS NULL;
