//! Invoices and credit notes. An invoice is issued for every paid order
//! (in `orders::confirm_payment`'s transaction) and a credit note for
//! every refund (in the refund's transaction), each numbered from its own
//! counter per calendar year: the counter row is incremented inside that
//! same transaction, so a rolled-back payment gives its number back and
//! two concurrent payments are serialised on the row — numbers have no
//! gaps and no duplicates. The parties and amounts are copied in as
//! issued. The PDF is rendered, stored and mailed after the commit (the
//! web crate's `invoices` module); the row remembers how far that got.

use chrono::{DateTime, Utc};
use gigstream_domain::ids::{AccountId, InvoiceId, OrderId};
use gigstream_domain::Currency;
use platform_db::{on_pool, Db, StoreError, StoreResult};
use platform_ledger::invariants::Check;
use serde::Serialize;

platform_kernel::text_enum! {
    /// What a numbered document is.
    pub enum Kind {
        Invoice => "invoice",
        CreditNote => "credit_note",
    }
}

impl Kind {
    /// The number's prefix: invoices and credit notes count separately.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Invoice => "GS",
            Kind::CreditNote => "GSC",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Invoice => "Invoice",
            Kind::CreditNote => "Credit note",
        }
    }
}

/// The number printed on a document: prefix, year, sequence (`GS-2026-000042`).
pub fn number(kind: Kind, year: i32, seq: i64) -> String {
    format!("{}-{year}-{seq:06}", kind.prefix())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Invoice {
    pub id: InvoiceId,
    pub kind: Kind,
    pub year: i32,
    pub seq: i64,
    pub number: String,
    pub order_id: OrderId,
    pub refund_id: Option<OrderId>,
    /// For a credit note: the invoice it corrects.
    pub invoice_number: Option<String>,
    pub buyer_id: AccountId,
    pub seller_id: AccountId,
    pub buyer_name: String,
    pub buyer_email: String,
    pub seller_name: String,
    pub seller_username: String,
    pub description: String,
    pub currency: Currency,
    /// An invoice: the package price; a credit note: the amount refunded.
    pub price_minor: i64,
    /// An invoice: the buyer's service fee; a credit note: 0.
    pub buyer_fee_minor: i64,
    pub total_minor: i64,
    pub issued_at: DateTime<Utc>,
    #[serde(skip)]
    pub pdf_key: Option<String>,
    pub emailed_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub mail_attempts: i32,
}

impl Invoice {
    /// The file name buyers see (`invoice-GS-2026-000042.pdf`).
    pub fn file_name(&self) -> String {
        let what = match self.kind {
            Kind::Invoice => "invoice",
            Kind::CreditNote => "credit-note",
        };
        format!("{what}-{}.pdf", self.number)
    }

    /// Whether `account` is one of the two parties (nobody else sees it).
    pub fn is_party(&self, account: AccountId) -> bool {
        account == self.buyer_id || account == self.seller_id
    }
}

const COLUMNS: &str = "id, kind, year, seq, number, order_id, refund_id, invoice_number, buyer_id, seller_id, buyer_name, buyer_email,
    seller_name, seller_username, description, currency, price_minor, buyer_fee_minor, total_minor, issued_at, pdf_key, emailed_at,
    mail_attempts";

/// Issues the next document of `$kind` for order `$order` (an
/// `orders::Order` as it stands in the transaction) inside `$tx`: takes the
/// counter, copies the parties in and writes the row. `$refund` is `None`
/// for an invoice, `Some((refund id, amount, reason))` for a credit note.
/// Evaluates to the new id.
macro_rules! issue_in {
    ($tx:expr, $kind:expr, $order:expr, $refund:expr, $now:expr) => {{
        let kind: $crate::invoices::Kind = $kind;
        let o: &$crate::orders::Order = $order;
        let refund: Option<(gigstream_domain::ids::OrderId, i64, &str)> = $refund;
        let now: chrono::DateTime<chrono::Utc> = $now;
        let year: i32 = chrono::Datelike::year(&now);
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO invoice_counters (kind, year, last) VALUES ($1, $2, 1)
             ON CONFLICT (kind, year) DO UPDATE SET last = invoice_counters.last + 1 RETURNING last",
        )
        .bind(kind)
        .bind(year)
        .fetch_one(&mut *$tx)
        .await?;
        let people: Vec<(gigstream_domain::ids::AccountId, String, String, String)> =
            sqlx::query_as("SELECT id, display_name, email, username FROM accounts WHERE id = $1 OR id = $2")
                .bind(o.buyer_id)
                .bind(o.seller_id)
                .fetch_all(&mut *$tx)
                .await?;
        let person = |id| people.iter().find(|p| p.0 == id).cloned().ok_or(platform_db::StoreError::NotFound);
        let (buyer, seller) = (person(o.buyer_id)?, person(o.seller_id)?);
        let item = format!("{} · {} package", o.gig_title, o.package_name);
        let (description, invoiced, price, fee, total) = match refund {
            None => (item, None, o.price_minor, o.buyer_fee_minor, o.total_minor),
            Some((_, amount, reason)) => {
                let of: Option<String> = sqlx::query_scalar("SELECT number FROM invoices WHERE order_id = $1 AND kind = 'invoice'")
                    .bind(o.id)
                    .fetch_optional(&mut *$tx)
                    .await?;
                let reason = reason.trim();
                let text = if reason.is_empty() { format!("Refund: {item}") } else { format!("Refund: {item} ({reason})") };
                (text, of, amount, 0, amount)
            }
        };
        let id = gigstream_domain::ids::InvoiceId::new();
        sqlx::query(
            "INSERT INTO invoices (id, kind, year, seq, number, order_id, refund_id, invoice_number, buyer_id, seller_id, buyer_name,
                 buyer_email, seller_name, seller_username, description, currency, price_minor, buyer_fee_minor, total_minor, issued_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
        )
        .bind(id)
        .bind(kind)
        .bind(year)
        .bind(seq)
        .bind($crate::invoices::number(kind, year, seq))
        .bind(o.id)
        .bind(refund.map(|r| r.0))
        .bind(invoiced)
        .bind(o.buyer_id)
        .bind(o.seller_id)
        .bind(&buyer.1)
        .bind(&buyer.2)
        .bind(&seller.1)
        .bind(&seller.3)
        .bind(description)
        .bind(o.currency)
        .bind(price)
        .bind(fee)
        .bind(total)
        .bind(now)
        .execute(&mut *$tx)
        .await?;
        id
    }};
}
pub(crate) use issue_in;

pub async fn get(db: &Db, id: InvoiceId) -> StoreResult<Invoice> {
    let sql = format!("SELECT {COLUMNS} FROM invoices WHERE id = $1");
    on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// An order's invoice and credit notes, in the order they were issued.
pub async fn for_order(db: &Db, order: OrderId) -> StoreResult<Vec<Invoice>> {
    let sql = format!("SELECT {COLUMNS} FROM invoices WHERE order_id = $1 ORDER BY issued_at, kind DESC, seq");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(order).fetch_all(p).await?))
}

/// The documents `account` is a party to, newest first.
pub async fn for_account(db: &Db, account: AccountId, limit: i64) -> StoreResult<Vec<Invoice>> {
    let sql = format!("SELECT {COLUMNS} FROM invoices WHERE buyer_id = $1 OR seller_id = $1 ORDER BY issued_at DESC, number DESC LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(account).bind(limit).fetch_all(p).await?))
}

/// Documents not yet stored or not yet mailed (oldest first), for the job
/// that finishes them; those that failed `max_attempts` times are left to
/// an operator.
pub async fn undelivered(db: &Db, max_attempts: i32, limit: i64) -> StoreResult<Vec<Invoice>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invoices WHERE emailed_at IS NULL AND mail_attempts < $1 ORDER BY issued_at, kind DESC, seq LIMIT $2"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(max_attempts).bind(limit).fetch_all(p).await?))
}

/// Records where the PDF is stored (once).
pub async fn stored(db: &Db, id: InvoiceId, key: &str) -> StoreResult<()> {
    let sql = "UPDATE invoices SET pdf_key = $2 WHERE id = $1 AND pdf_key IS NULL";
    on_pool!(db, p => sqlx::query(sql).bind(id).bind(key).execute(p).await?.rows_affected());
    Ok(())
}

/// Claims the mailing of a document: true for exactly one caller while it
/// is unmailed (the attempt is counted before sending, so two nodes do
/// not both send it).
pub async fn claim_mail(db: &Db, id: InvoiceId, attempts_seen: i32) -> StoreResult<bool> {
    let sql = "UPDATE invoices SET mail_attempts = mail_attempts + 1 WHERE id = $1 AND emailed_at IS NULL AND mail_attempts = $2";
    let n = on_pool!(db, p => sqlx::query(sql).bind(id).bind(attempts_seen).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// The mail went out.
pub async fn mailed(db: &Db, id: InvoiceId, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "UPDATE invoices SET emailed_at = $2, mail_error = NULL WHERE id = $1 AND emailed_at IS NULL";
    on_pool!(db, p => sqlx::query(sql).bind(id).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// The mail could not be sent; the job tries again.
pub async fn mail_failed(db: &Db, id: InvoiceId, error: &str) -> StoreResult<()> {
    let sql = "UPDATE invoices SET mail_error = $2 WHERE id = $1";
    on_pool!(db, p => sqlx::query(sql).bind(id).bind(error).execute(p).await?.rows_affected());
    Ok(())
}

pub const NUMBERS_HAVE_NO_GAPS: &str = "invoice and credit-note numbers run 1..n per kind and year, n = the counter";
pub const PAYMENTS_ARE_INVOICED: &str = "every payment since invoicing began has one invoice for the order's total";
pub const REFUNDS_HAVE_CREDIT_NOTES: &str = "every refund since invoicing began has one credit note for its amount";

/// The invariants `gigstream check` adds for invoices. Orders paid and
/// refunds made before the first invoice was issued (before invoicing
/// existed) are not asked for one.
pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            NUMBERS_HAVE_NO_GAPS,
            "SELECT c.kind || ' ' || CAST(c.year AS TEXT) || ': counter ' || CAST(c.last AS TEXT) || ', issued '
                    || CAST(COALESCE(i.n, 0) AS TEXT) || ', highest ' || CAST(COALESCE(i.top, 0) AS TEXT)
             FROM invoice_counters c
             LEFT JOIN (SELECT kind, year, COUNT(*) AS n, MAX(seq) AS top FROM invoices GROUP BY kind, year) i
               ON i.kind = c.kind AND i.year = c.year
             WHERE c.last <> COALESCE(i.n, 0) OR c.last <> COALESCE(i.top, 0)",
        ),
        Check::new(
            PAYMENTS_ARE_INVOICED,
            "SELECT CAST(o.id AS TEXT) || ': paid ' || CAST(o.paid_minor AS TEXT) || ', invoiced ' || CAST(COALESCE(i.total_minor, 0) AS TEXT)
             FROM orders o LEFT JOIN invoices i ON i.order_id = o.id AND i.kind = 'invoice'
             WHERE o.paid_minor > 0 AND o.paid_at >= (SELECT MIN(issued_at) FROM invoices)
               AND (i.id IS NULL OR i.total_minor <> o.paid_minor)",
        ),
        Check::new(
            REFUNDS_HAVE_CREDIT_NOTES,
            "SELECT CAST(r.id AS TEXT) || ': refunded ' || CAST(r.amount_minor AS TEXT) || ', credited ' || CAST(COALESCE(i.total_minor, 0) AS TEXT)
             FROM refunds r LEFT JOIN invoices i ON i.refund_id = r.id
             WHERE (i.id IS NULL AND r.created_at >= (SELECT MIN(issued_at) FROM invoices))
                OR i.total_minor <> r.amount_minor",
        ),
    ]
}
