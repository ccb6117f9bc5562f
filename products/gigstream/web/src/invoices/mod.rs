//! Invoices and credit notes after they are issued (the store numbers them
//! inside the payment's or refund's transaction): the PDF is drawn
//! ([`document`]), stored through platform-media under
//! `invoices/<year>/<number>.pdf`, and mailed to the buyer with the PDF
//! attached through platform-mail. Right after a payment or refund a task
//! does this at once ([`kick`]); the `invoices` job finishes whatever that
//! missed (a mail relay down, a crash), and a claim on the row keeps two
//! nodes from mailing one document twice. Pages and API: [`routes`].

pub mod pdf;
mod routes;

pub use routes::routes;

use crate::{AppError, AppState};
use chrono::Utc;
use gigstream_domain::ids::OrderId;
use gigstream_domain::Money;
use gigstream_store::invoices::{self, Invoice, Kind};
use pdf::{Page, Weight};
use platform_media::MediaKey;

/// How often mailing one document is tried before it is left to an operator.
pub const MAX_MAIL_ATTEMPTS: i32 = 8;

fn money(minor: i64, inv: &Invoice) -> String {
    format!("{} {}", Money::new(minor, inv.currency), inv.currency.as_str())
}

/// The document as a PDF (A4, one page).
pub fn document(inv: &Invoice) -> Result<Vec<u8>, String> {
    use pdf::{HEIGHT, WIDTH};
    let (left, right) = (56.0, WIDTH - 56.0);
    let mut p = Page::new();
    let mut y = HEIGHT - 72.0;
    p.fill(0.0, HEIGHT - 8.0, WIDTH, 8.0, 0.15);
    p.text(Weight::Bold, 20.0, left, y, "GigStream");
    p.text_right(Weight::Bold, 20.0, right, y, inv.kind.title());
    y -= 18.0;
    p.text_gray(Weight::Regular, 9.0, left, y, 0.4, "The gig marketplace with escrow");
    p.text_right(Weight::Regular, 10.0, right, y, &format!("No. {}", inv.number));
    y -= 14.0;
    p.text_right(Weight::Regular, 10.0, right, y, &format!("Issued {}", inv.issued_at.format("%d %B %Y")));
    y -= 14.0;
    p.text_right(Weight::Regular, 10.0, right, y, &format!("Order {}", inv.order_id));
    if let Some(of) = &inv.invoice_number {
        y -= 14.0;
        p.text_right(Weight::Regular, 10.0, right, y, &format!("Corrects invoice {of}"));
    }

    y -= 40.0;
    let mid = left + (right - left) / 2.0;
    p.text_gray(Weight::Bold, 9.0, left, y, 0.4, "BILLED TO (BUYER)");
    p.text_gray(Weight::Bold, 9.0, mid, y, 0.4, "SELLER");
    y -= 16.0;
    p.text(Weight::Bold, 11.0, left, y, &inv.buyer_name);
    p.text(Weight::Bold, 11.0, mid, y, &inv.seller_name);
    y -= 14.0;
    p.text(Weight::Regular, 10.0, left, y, &inv.buyer_email);
    p.text(Weight::Regular, 10.0, mid, y, &format!("@{} on GigStream", inv.seller_username));

    y -= 40.0;
    p.fill(left, y - 6.0, right - left, 22.0, 0.93);
    p.text(Weight::Bold, 10.0, left + 8.0, y, "Description");
    p.text_right(Weight::Bold, 10.0, right - 8.0, y, "Amount");
    y -= 24.0;
    let amount_col = right - 8.0;
    let text_width = right - left - 150.0;
    let line = |p: &mut Page, y: &mut f32, text: &str, amount: i64| {
        let lines = pdf::wrap(Weight::Regular, 10.0, text, text_width);
        p.text_right(Weight::Regular, 10.0, amount_col, *y, &money(amount, inv));
        for l in &lines {
            p.text(Weight::Regular, 10.0, left + 8.0, *y, l);
            *y -= 14.0;
        }
        *y -= 6.0;
    };
    match inv.kind {
        Kind::Invoice => {
            line(&mut p, &mut y, &inv.description, inv.price_minor);
            line(&mut p, &mut y, "Buyer service fee", inv.buyer_fee_minor);
        }
        Kind::CreditNote => line(&mut p, &mut y, &inv.description, inv.price_minor),
    }
    p.rule(left, y + 4.0, right, y + 4.0, 0.8, 0.2);
    y -= 14.0;
    let total = match inv.kind {
        Kind::Invoice => "Total paid",
        Kind::CreditNote => "Total refunded",
    };
    p.text(Weight::Bold, 12.0, left + 8.0, y, total);
    p.text_right(Weight::Bold, 12.0, amount_col, y, &money(inv.total_minor, inv));

    y -= 48.0;
    let note = match inv.kind {
        Kind::Invoice => {
            "Paid into GigStream's escrow. The seller is paid when the buyer accepts the work; \
             a cancelled or disputed order is refunded with a credit note."
        }
        Kind::CreditNote => "This amount goes back to the payment method the order was paid with.",
    };
    for l in pdf::wrap(Weight::Regular, 9.0, note, right - left) {
        p.text_gray(Weight::Regular, 9.0, left, y, 0.35, &l);
        y -= 12.0;
    }
    p.rule(left, 60.0, right, 60.0, 0.5, 0.7);
    p.text_gray(Weight::Regular, 8.0, left, 46.0, 0.45, &format!("{} {} · GigStream", inv.kind.title(), inv.number));
    pdf::render(&format!("{} {}", inv.kind.title(), inv.number), &[p])
}

fn key_of(inv: &Invoice) -> Result<MediaKey, AppError> {
    MediaKey::parse(&format!("invoices/{}/{}.pdf", inv.year, inv.number)).map_err(|e| AppError::Internal(e.to_string()))
}

/// The stored PDF, drawn and stored first if it is not yet.
pub async fn pdf_of(state: &AppState, inv: &Invoice) -> Result<Vec<u8>, AppError> {
    let key = key_of(inv)?;
    if inv.pdf_key.is_some() {
        if let Some(stored) = state.media.get(&key).await.map_err(|e| AppError::Internal(e.to_string()))? {
            return Ok(stored.bytes);
        }
    }
    let bytes = document(inv).map_err(AppError::Internal)?;
    state.media.put(&key, bytes.clone(), "application/pdf").await.map_err(|e| AppError::Internal(e.to_string()))?;
    invoices::stored(&state.db, inv.id, key.as_str()).await?;
    Ok(bytes)
}

/// The message to the buyer: a text part and the PDF.
pub fn mail(state: &AppState, inv: &Invoice, pdf: Vec<u8>) -> platform_mail::Email {
    let link = match &state.payments.public_url {
        Some(base) => format!("\r\nIt is also on your order page: {}/orders/{}\r\n", base.trim_end_matches('/'), inv.order_id),
        None => String::new(),
    };
    let (subject, body) = match inv.kind {
        Kind::Invoice => (
            format!("Your GigStream invoice {}", inv.number),
            format!(
                "Hello {},\r\n\r\nThank you for your order \"{}\" from {}.\r\n\r\nYou paid {}; it is held in escrow until you accept the work.\r\n\
                 Your invoice {} is attached.\r\n{link}\r\nGigStream\r\n",
                inv.buyer_name,
                inv.description,
                inv.seller_name,
                money(inv.total_minor, inv),
                inv.number
            ),
        ),
        Kind::CreditNote => (
            format!("Your GigStream credit note {}", inv.number),
            format!(
                "Hello {},\r\n\r\n{} is being refunded to you for \"{}\" from {}.\r\n\
                 Your credit note {} is attached{}.\r\n{link}\r\nGigStream\r\n",
                inv.buyer_name,
                money(inv.total_minor, inv),
                inv.description,
                inv.seller_name,
                inv.number,
                inv.invoice_number.as_ref().map(|n| format!(" (it corrects invoice {n})")).unwrap_or_default()
            ),
        ),
    };
    let to = format!("{} <{}>", inv.buyer_name.replace(['<', '>', '"', '\r', '\n'], ""), inv.buyer_email);
    platform_mail::Email::new(state.config.mail_from.clone(), to, subject).text(body).attach(platform_mail::Attachment::new(
        inv.file_name(),
        "application/pdf",
        pdf,
    ))
}

/// Stores and mails one document, unless another worker has claimed it.
/// Returns whether this call mailed it.
pub async fn finish(state: &AppState, inv: &Invoice) -> Result<bool, AppError> {
    let pdf = pdf_of(state, inv).await?;
    if inv.emailed_at.is_some() || !invoices::claim_mail(&state.db, inv.id, inv.mail_attempts).await? {
        return Ok(false);
    }
    match state.mailer.send(&mail(state, inv, pdf)).await {
        Ok(()) => {
            invoices::mailed(&state.db, inv.id, Utc::now()).await?;
            Ok(true)
        }
        Err(e) => {
            tracing::warn!(invoice = %inv.number, error = %e, "invoice mail not sent; the invoices job tries again");
            invoices::mail_failed(&state.db, inv.id, &e.to_string()).await?;
            Ok(false)
        }
    }
}

/// Finishes every document not yet mailed (the `invoices` job). Returns
/// how many were mailed.
pub async fn deliver_pending(state: &AppState) -> Result<usize, AppError> {
    let mut mailed = 0;
    for inv in invoices::undelivered(&state.db, MAX_MAIL_ATTEMPTS, 200).await? {
        mailed += usize::from(finish(state, &inv).await?);
    }
    Ok(mailed)
}

/// Finishes one order's new documents now, on their own task (after its
/// payment or refund committed); what fails is left for the job. Only that
/// order's: finishing every pending document on each payment made 200
/// payments at once render the same PDFs up to 200 times over (the orders
/// bench).
pub fn kick(state: &AppState, order: OrderId) {
    let state = state.clone();
    tokio::spawn(async move {
        let pending = match invoices::for_order(&state.db, order).await {
            Ok(docs) => docs,
            Err(e) => return tracing::warn!(error = %e, "invoices left for the invoices job"),
        };
        for inv in pending.iter().filter(|i| i.emailed_at.is_none() && i.mail_attempts < MAX_MAIL_ATTEMPTS) {
            if let Err(e) = finish(&state, inv).await {
                tracing::warn!(invoice = %inv.number, error = %e, "invoice left for the invoices job");
            }
        }
    });
}
