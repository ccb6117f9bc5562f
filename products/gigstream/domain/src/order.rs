//! The order state machine. Every change of an order is an [`Action`] by an
//! [`Actor`]; [`transition`] says whether it is allowed and where it leads,
//! and in words a person can act on when it is not: the wrong person is
//! [`Refusal::Forbidden`] (403), the wrong moment is [`Refusal::Illegal`]
//! (409).
//!
//! ```text
//! placed ─pay→ paid ─requirements→ in_progress ─deliver→ delivered ─accept / 3 days→ completed ─release→ released
//!                                                 ▲           │
//!                                                 └─deliver── revision_requested (while revisions are left)
//! placed, paid, in_progress, delivered, revision_requested ─cancel (admin, or both sides)→ cancelled ─refund→ refunded
//! paid, in_progress, delivered, revision_requested ─dispute→ disputed ─admin→ released | refunded | resolved (split)
//! ```

use chrono::{DateTime, Duration, Utc};

platform_kernel::text_enum! {
    pub enum OrderStatus {
        Placed => "placed",
        Paid => "paid",
        InProgress => "in_progress",
        Delivered => "delivered",
        RevisionRequested => "revision_requested",
        Completed => "completed",
        Released => "released",
        Cancelled => "cancelled",
        Refunded => "refunded",
        Disputed => "disputed",
        Resolved => "resolved",
    }
}

platform_kernel::text_enum! {
    /// Everything that can happen to an order; also the timeline's kinds.
    pub enum Action {
        Pay => "pay",
        SubmitRequirements => "submit_requirements",
        Deliver => "deliver",
        RequestRevision => "request_revision",
        Accept => "accept",
        AutoComplete => "auto_complete",
        Release => "release",
        RequestCancel => "request_cancel",
        Cancel => "cancel",
        Refund => "refund",
        Dispute => "dispute",
        ResolveRelease => "resolve_release",
        ResolveRefund => "resolve_refund",
        ResolveSplit => "resolve_split",
    }
}

platform_kernel::text_enum! {
    /// Who acts on an order.
    pub enum Actor { Buyer => "buyer", Seller => "seller", Admin => "admin", System => "system" }
}

/// What the state machine needs to know besides the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ctx {
    pub revisions_used: i32,
    pub revisions_allowed: i32,
    /// The side that asked to cancel, if one has.
    pub cancel_requested_by: Option<Actor>,
    /// Whether money reached escrow for this order.
    pub paid: bool,
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// This person may never take this action on this order (403).
    Forbidden(String),
    /// Not now: the order is in the wrong state (409).
    Illegal(String),
}

impl Refusal {
    pub fn message(&self) -> &str {
        match self {
            Refusal::Forbidden(m) | Refusal::Illegal(m) => m,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl OrderStatus {
    /// The status in words, as it ends "an order that is …".
    pub fn words(self) -> &'static str {
        match self {
            OrderStatus::Placed => "waiting for payment",
            OrderStatus::Paid => "paid and waiting for the buyer's requirements",
            OrderStatus::InProgress => "in progress",
            OrderStatus::Delivered => "delivered",
            OrderStatus::RevisionRequested => "waiting for a revision",
            OrderStatus::Completed => "completed",
            OrderStatus::Released => "completed and paid out",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Disputed => "in dispute",
            OrderStatus::Resolved => "resolved by an admin",
        }
    }

    /// A short label for badges.
    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Placed => "Awaiting payment",
            OrderStatus::Paid => "Awaiting requirements",
            OrderStatus::InProgress => "In progress",
            OrderStatus::Delivered => "Delivered",
            OrderStatus::RevisionRequested => "Revision requested",
            OrderStatus::Completed => "Completed",
            OrderStatus::Released => "Completed",
            OrderStatus::Cancelled => "Cancelled",
            OrderStatus::Refunded => "Refunded",
            OrderStatus::Disputed => "In dispute",
            OrderStatus::Resolved => "Resolved",
        }
    }

    /// No action leads anywhere from here.
    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Released | OrderStatus::Refunded | OrderStatus::Resolved)
            || Action::ALL.iter().all(|&a| STEPS.iter().all(|s| !(s.0 == self && s.1 == a)))
    }

    /// Work is under way, so the delivery date counts.
    pub fn is_active(self) -> bool {
        matches!(self, OrderStatus::InProgress | OrderStatus::RevisionRequested)
    }
}

impl Action {
    /// The action as a verb phrase ending "You cannot … an order".
    fn verb(self) -> &'static str {
        match self {
            Action::Pay => "pay for",
            Action::SubmitRequirements => "submit requirements for",
            Action::Deliver => "deliver",
            Action::RequestRevision => "ask for a revision of",
            Action::Accept => "accept",
            Action::AutoComplete => "auto-complete",
            Action::Release => "release the money of",
            Action::RequestCancel => "ask to cancel",
            Action::Cancel => "cancel",
            Action::Refund => "refund",
            Action::Dispute => "open a dispute on",
            Action::ResolveRelease | Action::ResolveRefund | Action::ResolveSplit => "resolve",
        }
    }

    /// Who may ever take this action.
    pub fn actors(self) -> &'static [Actor] {
        use Actor::*;
        match self {
            Action::Pay | Action::AutoComplete | Action::Release => &[System],
            Action::SubmitRequirements | Action::RequestRevision | Action::Accept => &[Buyer],
            Action::Deliver => &[Seller],
            Action::RequestCancel | Action::Dispute => &[Buyer, Seller],
            Action::Cancel => &[Buyer, Seller, Admin],
            Action::Refund => &[System, Admin],
            Action::ResolveRelease | Action::ResolveRefund | Action::ResolveSplit => &[Admin],
        }
    }

    /// The timeline's words for this step.
    pub fn timeline_words(self) -> &'static str {
        match self {
            Action::Pay => "Payment received; the money is held in escrow",
            Action::SubmitRequirements => "Requirements submitted; work started",
            Action::Deliver => "Delivered",
            Action::RequestRevision => "Revision requested",
            Action::Accept => "Delivery accepted",
            Action::AutoComplete => "Completed automatically 3 days after delivery",
            Action::Release => "Money released to the seller",
            Action::RequestCancel => "Cancellation requested",
            Action::Cancel => "Order cancelled",
            Action::Refund => "Refunded to the buyer",
            Action::Dispute => "Dispute opened",
            Action::ResolveRelease => "Dispute resolved: money released to the seller",
            Action::ResolveRefund => "Dispute resolved: refunded to the buyer",
            Action::ResolveSplit => "Dispute resolved: money split",
        }
    }
}

use Action as A;
use OrderStatus as S;

/// Every legal step: from, action, to.
pub const STEPS: &[(OrderStatus, Action, OrderStatus)] = &[
    (S::Placed, A::Pay, S::Paid),
    (S::Placed, A::Cancel, S::Cancelled),
    (S::Paid, A::SubmitRequirements, S::InProgress),
    (S::Paid, A::RequestCancel, S::Paid),
    (S::Paid, A::Cancel, S::Cancelled),
    (S::Paid, A::Dispute, S::Disputed),
    (S::InProgress, A::Deliver, S::Delivered),
    (S::InProgress, A::RequestCancel, S::InProgress),
    (S::InProgress, A::Cancel, S::Cancelled),
    (S::InProgress, A::Dispute, S::Disputed),
    (S::Delivered, A::RequestRevision, S::RevisionRequested),
    (S::Delivered, A::Accept, S::Completed),
    (S::Delivered, A::AutoComplete, S::Completed),
    (S::Delivered, A::RequestCancel, S::Delivered),
    (S::Delivered, A::Cancel, S::Cancelled),
    (S::Delivered, A::Dispute, S::Disputed),
    (S::RevisionRequested, A::Deliver, S::Delivered),
    (S::RevisionRequested, A::RequestCancel, S::RevisionRequested),
    (S::RevisionRequested, A::Cancel, S::Cancelled),
    (S::RevisionRequested, A::Dispute, S::Disputed),
    (S::Completed, A::Release, S::Released),
    (S::Cancelled, A::Refund, S::Refunded),
    (S::Disputed, A::ResolveRelease, S::Released),
    (S::Disputed, A::ResolveRefund, S::Refunded),
    (S::Disputed, A::ResolveSplit, S::Resolved),
];

fn illegal(status: OrderStatus, action: Action) -> Refusal {
    let specific = match (status, action) {
        (S::Delivered, A::Deliver) => Some("This order is already delivered; the buyer can accept it or ask for a revision."),
        (S::Placed, A::SubmitRequirements) => Some("Pay for the order first; requirements come after payment."),
        (S::Placed | S::Paid, A::Deliver) => Some("The seller can deliver once the buyer has paid and submitted the requirements."),
        (S::InProgress | S::Paid | S::Placed, A::Accept | A::RequestRevision) => {
            Some("There is no delivery to accept or revise yet; wait for the seller to deliver.")
        }
        (S::Delivered | S::InProgress | S::RevisionRequested, A::Pay) => Some("This order is already paid."),
        (S::Paid, A::Pay) => Some("This order is already paid."),
        (S::Completed | S::Released, A::Cancel | A::RequestCancel | A::Dispute) => {
            Some("This order is completed; a completed order can no longer be cancelled or disputed.")
        }
        (S::Refunded | S::Released | S::Resolved, _) => Some("This order is closed; nothing more can happen to it."),
        _ => None,
    };
    Refusal::Illegal(
        specific.map(str::to_string).unwrap_or_else(|| format!("You cannot {} an order that is {}.", action.verb(), status.words())),
    )
}

/// Where `action` by `actor` takes an order in `status`, or why not.
pub fn transition(status: OrderStatus, action: Action, actor: Actor, ctx: Ctx) -> Result<OrderStatus, Refusal> {
    if !action.actors().contains(&actor) {
        let who = match actor {
            Actor::Buyer => "the buyer",
            Actor::Seller => "the seller",
            Actor::Admin => "an admin",
            Actor::System => "the system",
        };
        return Err(Refusal::Forbidden(format!("Only {} can {} an order; not {who}.", allowed_words(action), action.verb())));
    }
    let Some(&(_, _, to)) = STEPS.iter().find(|(from, a, _)| *from == status && *a == action) else {
        return Err(illegal(status, action));
    };
    match action {
        A::RequestRevision if ctx.revisions_used >= ctx.revisions_allowed => Err(Refusal::Illegal(match ctx.revisions_allowed {
            0 => "This package includes no revisions; accept the delivery or open a dispute.".to_string(),
            n => format!("This package includes {n} revision{} and all have been used; accept the delivery or open a dispute.", plural(n)),
        })),
        A::Cancel if status != S::Placed && actor != Actor::Admin => match ctx.cancel_requested_by {
            Some(other) if other != actor => Ok(to),
            Some(_) => Err(Refusal::Illegal("You already asked to cancel; the other side has to agree.".into())),
            None => Err(Refusal::Illegal("A paid order is cancelled only when both sides agree: ask to cancel first.".into())),
        },
        A::Cancel if status == S::Placed && actor == Actor::Seller => Ok(to),
        A::RequestCancel if ctx.cancel_requested_by == Some(actor) => {
            Err(Refusal::Illegal("You already asked to cancel; the other side has to agree.".into()))
        }
        A::Refund if !ctx.paid => Err(Refusal::Illegal("Nothing was paid for this order, so there is nothing to refund.".into())),
        _ => Ok(to),
    }
}

fn plural(n: i32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn allowed_words(action: Action) -> String {
    let names: Vec<&str> = action
        .actors()
        .iter()
        .map(|a| match a {
            Actor::Buyer => "the buyer",
            Actor::Seller => "the seller",
            Actor::Admin => "an admin",
            Actor::System => "the payment system",
        })
        .collect();
    names.join(" or ")
}

/// How long after a delivery an order completes by itself.
pub const AUTO_COMPLETE_AFTER_DAYS: i64 = 3;

/// Whether a delivered order completes by itself at `now`.
pub fn auto_complete_due(delivered_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= delivered_at + Duration::days(AUTO_COMPLETE_AFTER_DAYS)
}

/// When the first delivery is due: the package's days after work started.
pub fn due_at(started_at: DateTime<Utc>, delivery_days: i32) -> DateTime<Utc> {
    started_at + Duration::days(i64::from(delivery_days))
}

/// An order is late when its first delivery came after the due date, or
/// has not come and the due date has passed.
pub fn is_late(due_at: Option<DateTime<Utc>>, first_delivered_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    match due_at {
        None => false,
        Some(due) => first_delivered_at.unwrap_or(now) > due,
    }
}

/// Why a refund is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundRefusal {
    /// Everything that could be refunded already was, or went to the seller.
    NothingLeft,
    /// The amount is zero or negative.
    NotPositive,
    /// More than is left in escrow for the order.
    TooMuch { left: i64 },
}

impl std::fmt::Display for RefundRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefundRefusal::NothingLeft => f.write_str("Nothing is left to refund for this order."),
            RefundRefusal::NotPositive => f.write_str("A refund must be more than zero."),
            RefundRefusal::TooMuch { left } => write!(f, "At most {left} (minor units) is left to refund for this order."),
        }
    }
}

/// The amount a refund may move: `requested` (or all that is left when
/// `None`), never more than what was paid minus what was already refunded
/// or released, and never when nothing is left.
pub fn refund_amount(requested: Option<i64>, paid: i64, refunded: i64, released: i64) -> Result<i64, RefundRefusal> {
    let left = (paid - refunded - released).max(0);
    if left == 0 {
        return Err(RefundRefusal::NothingLeft);
    }
    match requested {
        None => Ok(left),
        Some(r) if r <= 0 => Err(RefundRefusal::NotPositive),
        Some(r) if r > left => Err(RefundRefusal::TooMuch { left }),
        Some(r) => Ok(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A context in which the step is allowed, if any is.
    fn permissive(action: Action, actor: Actor) -> Ctx {
        let other = if actor == Actor::Buyer { Actor::Seller } else { Actor::Buyer };
        Ctx { revisions_used: 0, revisions_allowed: 2, cancel_requested_by: (action == A::Cancel).then_some(other), paid: true }
    }

    /// Every status × action: the legal ones lead where STEPS says (for each
    /// permitted actor), the rest are refused with a readable 409 message
    /// naming the moment, and a wrong actor is a 403.
    #[test]
    fn every_transition_is_legal_or_refused_in_words() {
        let mut legal = 0;
        let mut refused = 0;
        for &status in OrderStatus::ALL {
            for &action in Action::ALL {
                let step = STEPS.iter().find(|(f, a, _)| *f == status && *a == action);
                for &actor in action.actors() {
                    let got = transition(status, action, actor, permissive(action, actor));
                    match step {
                        Some(&(_, _, to)) => {
                            assert_eq!(got, Ok(to), "{status} --{action} by {actor}");
                            legal += 1;
                        }
                        None => {
                            let Err(Refusal::Illegal(msg)) = &got else { panic!("{status} --{action} by {actor}: {got:?}") };
                            assert!(msg.len() > 20 && msg.ends_with('.'), "{status} --{action}: {msg:?}");
                            refused += 1;
                        }
                    }
                }
                for &actor in Actor::ALL.iter().filter(|a| !action.actors().contains(a)) {
                    let got = transition(status, action, actor, permissive(action, actor));
                    assert!(
                        matches!(&got, Err(Refusal::Forbidden(m)) if m.starts_with("Only ")),
                        "{status} --{action} by {actor}: {got:?}"
                    );
                }
            }
        }
        assert_eq!(STEPS.len(), 25);
        assert!(legal >= STEPS.len() && refused > 100, "{legal} legal, {refused} refused");
    }

    #[test]
    fn the_messages_say_what_to_do() {
        let c = Ctx { revisions_allowed: 1, paid: true, ..Ctx::default() };
        let msg = |s, a, who| transition(s, a, who, c).unwrap_err().message().to_string();
        assert_eq!(
            msg(S::Delivered, A::Deliver, Actor::Seller),
            "This order is already delivered; the buyer can accept it or ask for a revision."
        );
        assert_eq!(msg(S::Placed, A::SubmitRequirements, Actor::Buyer), "Pay for the order first; requirements come after payment.");
        assert_eq!(msg(S::Cancelled, A::Deliver, Actor::Seller), "You cannot deliver an order that is cancelled.");
        assert_eq!(msg(S::Disputed, A::Accept, Actor::Buyer), "You cannot accept an order that is in dispute.");
        assert_eq!(msg(S::Delivered, A::Accept, Actor::Seller), "Only the buyer can accept an order; not the seller.");
        assert_eq!(msg(S::Released, A::Refund, Actor::Admin), "This order is closed; nothing more can happen to it.");
    }

    #[test]
    fn revisions_stop_at_the_package_count() {
        let cases: &[(i32, i32, Result<OrderStatus, &str>)] = &[
            (0, 2, Ok(S::RevisionRequested)),
            (1, 2, Ok(S::RevisionRequested)),
            (2, 2, Err("This package includes 2 revisions and all have been used; accept the delivery or open a dispute.")),
            (1, 1, Err("This package includes 1 revision and all have been used; accept the delivery or open a dispute.")),
            (0, 0, Err("This package includes no revisions; accept the delivery or open a dispute.")),
        ];
        for (used, allowed, want) in cases {
            let (used, allowed) = (*used, *allowed);
            let got = transition(
                S::Delivered,
                A::RequestRevision,
                Actor::Buyer,
                Ctx { revisions_used: used, revisions_allowed: allowed, ..Ctx::default() },
            );
            assert_eq!(got.map_err(|r| r.message().to_string()), (*want).map_err(str::to_string), "{used}/{allowed}");
        }
    }

    #[test]
    fn a_paid_order_is_cancelled_by_both_sides_or_an_admin() {
        use Actor::*;
        let cases: &[(OrderStatus, Actor, Option<Actor>, bool)] = &[
            (S::Placed, Buyer, None, true),
            (S::Placed, Seller, None, true),
            (S::Paid, Buyer, None, false),
            (S::Paid, Buyer, Some(Buyer), false),
            (S::Paid, Buyer, Some(Seller), true),
            (S::InProgress, Seller, Some(Buyer), true),
            (S::InProgress, Admin, None, true),
            (S::Delivered, Seller, None, false),
        ];
        for &(status, actor, requested, ok) in cases {
            let got = transition(status, A::Cancel, actor, Ctx { cancel_requested_by: requested, paid: true, ..Ctx::default() });
            assert_eq!(got.is_ok(), ok, "{status} cancel by {actor} after {requested:?}: {got:?}");
        }
        let again = transition(S::Paid, A::RequestCancel, Buyer, Ctx { cancel_requested_by: Some(Buyer), ..Ctx::default() });
        assert!(matches!(again, Err(Refusal::Illegal(_))));
        let unpaid = transition(S::Cancelled, A::Refund, System, Ctx::default());
        assert!(matches!(unpaid, Err(Refusal::Illegal(m)) if m.contains("Nothing was paid")));
    }

    #[test]
    fn final_states_lead_nowhere() {
        let finals: Vec<OrderStatus> = OrderStatus::ALL.iter().copied().filter(|s| s.is_final()).collect();
        assert_eq!(finals, vec![S::Released, S::Refunded, S::Resolved]);
    }

    #[test]
    fn refunds_are_capped_by_what_is_left() {
        type Case = (Option<i64>, i64, i64, i64, Result<i64, RefundRefusal>);
        let cases: &[Case] = &[
            (None, 1000, 0, 0, Ok(1000)),
            (Some(400), 1000, 0, 0, Ok(400)),
            (None, 1000, 400, 0, Ok(600)),
            (Some(700), 1000, 400, 0, Err(RefundRefusal::TooMuch { left: 600 })),
            (None, 1000, 1000, 0, Err(RefundRefusal::NothingLeft)),
            (Some(1), 1000, 1000, 0, Err(RefundRefusal::NothingLeft)),
            (None, 1000, 0, 1000, Err(RefundRefusal::NothingLeft)),
            (Some(0), 1000, 0, 0, Err(RefundRefusal::NotPositive)),
            (Some(-5), 1000, 0, 0, Err(RefundRefusal::NotPositive)),
            (None, 0, 0, 0, Err(RefundRefusal::NothingLeft)),
        ];
        for &(req, paid, refunded, released, ref want) in cases {
            assert_eq!(&refund_amount(req, paid, refunded, released), want, "{req:?} of {paid} after {refunded}/{released}");
        }
    }

    #[test]
    fn lateness_and_auto_completion_follow_the_clock() {
        let t = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap();
        let due = due_at(t(1, 12), 3);
        assert_eq!(due, t(4, 12));
        assert!(!is_late(Some(due), None, t(4, 11)));
        assert!(is_late(Some(due), None, t(4, 13)));
        assert!(!is_late(Some(due), Some(t(4, 12)), t(20, 0)), "delivered exactly on time");
        assert!(is_late(Some(due), Some(t(5, 0)), t(5, 1)));
        assert!(!is_late(None, None, t(30, 0)), "not started, not late");
        assert!(!auto_complete_due(t(1, 12), t(4, 11)));
        assert!(auto_complete_due(t(1, 12), t(4, 12)));
    }
}
