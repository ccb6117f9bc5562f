//! Coin requests to resellers (requirement 5.3, 5.4): what a request and a
//! decision may say, which state moves to which, when a pending request
//! expires and when a credit approval is overdue. Pure rules; the store
//! applies them in one transaction with the ledger posting.

use chrono::{DateTime, Duration, Utc};
use platform_kernel::FieldErrors;

/// An unprocessed request expires after this long.
pub const EXPIRY_HOURS: i64 = 72;
/// A message or a decision note: at most this many characters.
pub const MAX_TEXT: usize = 1_000;
/// Proof pictures per request.
pub const MAX_PROOFS: usize = 3;
/// Credit approvals run for 1–365 days.
pub const MAX_CREDIT_DAYS: i64 = 365;
/// The most coins one request may ask for (and one top-up may add).
pub const MAX_COINS: i64 = 100_000_000;

platform_kernel::text_enum! {
    /// Where a request is: only `pending` moves, and only once.
    pub enum Status { Pending => "pending", Approved => "approved", Rejected => "rejected", Cancelled => "cancelled", Expired => "expired" }
}

platform_kernel::text_enum! {
    /// How the requester pays the reseller: already in cash, or on credit
    /// for a number of days.
    pub enum Payment { Cash => "cash", Credit => "credit" }
}

/// What someone does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Approve,
    Reject,
    Cancel,
    Expire,
}

/// The status `action` moves `from` to, or `None` when the request was
/// already processed (anything but pending).
pub fn transition(from: Status, action: Action) -> Option<Status> {
    match (from, action) {
        (Status::Pending, Action::Approve) => Some(Status::Approved),
        (Status::Pending, Action::Reject) => Some(Status::Rejected),
        (Status::Pending, Action::Cancel) => Some(Status::Cancelled),
        (Status::Pending, Action::Expire) => Some(Status::Expired),
        _ => None,
    }
}

/// When a request made at `created` expires.
pub fn expires_at(created: DateTime<Utc>) -> DateTime<Utc> {
    created + Duration::hours(EXPIRY_HOURS)
}

fn coins_field(field: &'static str, coins: i64, errs: &mut FieldErrors) {
    if !(1..=MAX_COINS).contains(&coins) {
        errs.add(field, format!("Enter a whole number of coins from 1 to {MAX_COINS}."));
    }
}

fn text_field(field: &'static str, text: &str, errs: &mut FieldErrors) {
    if text.chars().count() > MAX_TEXT {
        errs.add(field, format!("At most {MAX_TEXT} characters."));
    }
}

/// A new request: at least one coin, a message of at most 1,000
/// characters, one to three proof pictures, not to oneself.
pub fn check_request(coins: i64, message: &str, proofs: usize, to_self: bool) -> Result<(), FieldErrors> {
    let mut errs = FieldErrors::default();
    if to_self {
        errs.add("reseller", "You cannot ask yourself for coins.");
    }
    coins_field("coins", coins, &mut errs);
    text_field("message", message, &mut errs);
    if proofs == 0 {
        errs.add("proof", "Add a picture of your payment (JPEG or PNG).");
    } else if proofs > MAX_PROOFS {
        errs.add("proof", format!("At most {MAX_PROOFS} pictures."));
    }
    errs.into_result()
}

/// An approval: the coins paid (at least one), cash or credit (credit needs
/// 1–365 days; cash takes none), an optional note.
pub fn check_approval(coins: i64, payment: Payment, credit_days: Option<i64>, note: &str) -> Result<(), FieldErrors> {
    let mut errs = FieldErrors::default();
    coins_field("coins", coins, &mut errs);
    match (payment, credit_days) {
        (Payment::Credit, Some(d)) if (1..=MAX_CREDIT_DAYS).contains(&d) => {}
        (Payment::Credit, _) => errs.add("credit_days", format!("Credit needs 1 to {MAX_CREDIT_DAYS} days.")),
        (Payment::Cash, Some(_)) => errs.add("credit_days", "Days are for credit approvals only."),
        (Payment::Cash, None) => {}
    }
    text_field("note", note, &mut errs);
    errs.into_result()
}

/// A rejection's note (optional, at most 1,000 characters).
pub fn check_note(note: &str) -> Result<(), FieldErrors> {
    let mut errs = FieldErrors::default();
    text_field("note", note, &mut errs);
    errs.into_result()
}

/// Whether a credit approval decided at `decided` for `days` and not yet
/// repaid is overdue at `now`.
pub fn overdue(payment: Option<Payment>, days: Option<i64>, decided: Option<DateTime<Utc>>, repaid: bool, now: DateTime<Utc>) -> bool {
    match (payment, days, decided) {
        (Some(Payment::Credit), Some(d), Some(at)) => !repaid && now > at + Duration::days(d),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    type ApprovalCase<'a> = (i64, Payment, Option<i64>, &'a str, Vec<&'a str>);

    fn fields(r: Result<(), FieldErrors>) -> Vec<&'static str> {
        match r {
            Ok(()) => vec![],
            Err(e) => e.0.iter().map(|f| f.field).collect(),
        }
    }

    #[test]
    fn only_a_pending_request_moves_and_only_once() {
        use Action::*;
        use Status::*;
        let table = [
            (Pending, Approve, Some(Approved)),
            (Pending, Reject, Some(Rejected)),
            (Pending, Cancel, Some(Cancelled)),
            (Pending, Expire, Some(Expired)),
        ];
        for (from, action, want) in table {
            assert_eq!(transition(from, action), want, "{from:?} {action:?}");
        }
        for from in [Approved, Rejected, Cancelled, Expired] {
            for action in [Approve, Reject, Cancel, Expire] {
                assert_eq!(transition(from, action), None, "{from:?} {action:?}");
            }
        }
    }

    #[test]
    fn requests_are_checked_field_by_field() {
        let long = "x".repeat(MAX_TEXT + 1);
        let ok_text = "é".repeat(MAX_TEXT);
        let table: [(i64, &str, usize, bool, Vec<&str>); 9] = [
            (1, "", 1, false, vec![]),
            (MAX_COINS, &ok_text, 3, false, vec![]),
            (0, "", 1, false, vec!["coins"]),
            (-5, "", 1, false, vec!["coins"]),
            (MAX_COINS + 1, "", 1, false, vec!["coins"]),
            (10, &long, 1, false, vec!["message"]),
            (10, "", 0, false, vec!["proof"]),
            (10, "", 4, false, vec!["proof"]),
            (0, &long, 0, true, vec!["reseller", "coins", "message", "proof"]),
        ];
        for (coins, msg, proofs, to_self, want) in table {
            assert_eq!(fields(check_request(coins, msg, proofs, to_self)), want, "{coins} {proofs} {to_self}");
        }
    }

    #[test]
    fn approvals_need_coins_and_credit_days_only_for_credit() {
        let long = "n".repeat(MAX_TEXT + 1);
        let table: [ApprovalCase; 9] = [
            (1, Payment::Cash, None, "", vec![]),
            (500, Payment::Credit, Some(1), "ok", vec![]),
            (500, Payment::Credit, Some(365), "", vec![]),
            (500, Payment::Credit, None, "", vec!["credit_days"]),
            (500, Payment::Credit, Some(0), "", vec!["credit_days"]),
            (500, Payment::Credit, Some(366), "", vec!["credit_days"]),
            (500, Payment::Cash, Some(3), "", vec!["credit_days"]),
            (0, Payment::Cash, None, "", vec!["coins"]),
            (5, Payment::Cash, None, &long, vec!["note"]),
        ];
        for (coins, payment, days, note, want) in table {
            assert_eq!(fields(check_approval(coins, payment, days, note)), want, "{coins} {payment:?} {days:?}");
        }
        assert_eq!(fields(check_note(&long)), vec!["note"]);
        assert_eq!(fields(check_note("")), Vec::<&str>::new());
    }

    #[test]
    fn expiry_and_overdue_boundaries() {
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(expires_at(t), Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap());
        let day = Duration::days(1);
        let sec = Duration::seconds(1);
        let table = [
            (Some(Payment::Credit), Some(1), Some(t), false, t + day, false),
            (Some(Payment::Credit), Some(1), Some(t), false, t + day + sec, true),
            (Some(Payment::Credit), Some(1), Some(t), true, t + day * 10, false),
            (Some(Payment::Cash), None, Some(t), false, t + day * 400, false),
            (None, None, None, false, t + day * 400, false),
        ];
        for (payment, days, decided, repaid, now, want) in table {
            assert_eq!(overdue(payment, days, decided, repaid, now), want, "{payment:?} {days:?} {now}");
        }
    }
}
