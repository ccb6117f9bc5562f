//! The numbers on the seller's and the buyer's dashboards, computed from
//! plain rows: earnings per day and per month, the orders pipeline, the
//! response rate, and the quick actions that need someone's attention.

use crate::order::OrderStatus;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

/// One released earning: when and how much (minor units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earned {
    pub at: DateTime<Utc>,
    pub amount_minor: i64,
}

/// A period's total: `2026-11-30` for a day, `2026-11` for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub label: String,
    pub orders: i64,
    pub amount_minor: i64,
}

/// Totals for each of the `days` days up to and including `today` (UTC),
/// oldest first; days without earnings are zero.
pub fn earnings_by_day(items: &[Earned], today: NaiveDate, days: u32) -> Vec<Period> {
    (0..days as i64)
        .rev()
        .map(|back| {
            let day = today - Duration::days(back);
            let (orders, amount_minor) = total(items.iter().filter(|e| e.at.date_naive() == day));
            Period { label: day.format("%Y-%m-%d").to_string(), orders, amount_minor }
        })
        .collect()
}

/// Totals for each of the `months` calendar months up to and including the
/// one `now` is in, oldest first.
pub fn earnings_by_month(items: &[Earned], now: DateTime<Utc>, months: u32) -> Vec<Period> {
    let index = |t: DateTime<Utc>| t.year() as i64 * 12 + t.month0() as i64;
    let last = index(now);
    (0..months as i64)
        .rev()
        .map(|back| {
            let m = last - back;
            let (orders, amount_minor) = total(items.iter().filter(|e| index(e.at) == m));
            Period { label: format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1), orders, amount_minor }
        })
        .collect()
}

fn total<'a>(items: impl Iterator<Item = &'a Earned>) -> (i64, i64) {
    items.fold((0, 0), |(n, sum), e| (n + 1, sum + e.amount_minor))
}

/// One stage of the orders pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub label: &'static str,
    /// The statuses counted here (completed and released are one stage).
    pub statuses: Vec<OrderStatus>,
    pub count: i64,
}

/// Orders counted by stage in the order's flow (a stage per badge label),
/// from counts per status; stages with no orders left out.
pub fn pipeline(counts: &[(OrderStatus, i64)]) -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    for s in OrderStatus::ALL {
        let count: i64 = counts.iter().filter(|x| x.0 == *s).map(|x| x.1).sum();
        match stages.iter_mut().find(|st| st.label == s.label()) {
            Some(st) => {
                st.statuses.push(*s);
                st.count += count;
            }
            None => stages.push(Stage { label: s.label(), statuses: vec![*s], count }),
        }
    }
    stages.retain(|s| s.count > 0);
    stages
}

/// One message in a seller's conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub conversation: String,
    pub from_buyer: bool,
    pub at: DateTime<Utc>,
}

/// How quickly a seller answers buyers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseRate {
    /// Buyers' messages that waited for an answer and are judged.
    pub asked: i64,
    /// Of those, answered within the limit.
    pub answered: i64,
    /// `answered / asked`, rounded half up; none when nothing was asked.
    pub percent: Option<i64>,
    /// The median time to an answer within the limit, in minutes.
    pub median_minutes: Option<i64>,
}

/// The hours within which an answer counts as a response.
pub const RESPONSE_HOURS: i64 = 24;

/// The response rate over `messages` (any order): each run of buyer
/// messages is one question, timed from its first message, answered by the
/// seller's next message within [`RESPONSE_HOURS`]. Questions asked before
/// `since` are not judged, nor unanswered ones still inside the limit.
pub fn response_rate(messages: &[Said], now: DateTime<Utc>, since: DateTime<Utc>) -> ResponseRate {
    let limit = Duration::hours(RESPONSE_HOURS);
    let mut sorted: Vec<&Said> = messages.iter().collect();
    sorted.sort_by(|a, b| a.conversation.cmp(&b.conversation).then(a.at.cmp(&b.at)));
    let mut asked = 0;
    let mut waits: Vec<i64> = Vec::new();
    let mut open: Option<(&str, DateTime<Utc>)> = None;
    let mut judge = |question: Option<(&str, DateTime<Utc>)>, answer: Option<DateTime<Utc>>| {
        let Some((_, asked_at)) = question else { return };
        if asked_at < since {
            return;
        }
        match answer {
            Some(a) if a - asked_at <= limit => {
                asked += 1;
                waits.push((a - asked_at).num_minutes());
            }
            _ if now - asked_at > limit => asked += 1,
            _ => {}
        }
    };
    for m in sorted {
        if open.is_some_and(|(c, _)| c != m.conversation) {
            judge(open.take(), None);
        }
        match (m.from_buyer, open) {
            (true, None) => open = Some((m.conversation.as_str(), m.at)),
            (false, Some(_)) => judge(open.take(), Some(m.at)),
            _ => {}
        }
    }
    judge(open, None);
    waits.sort_unstable();
    let answered = waits.len() as i64;
    ResponseRate {
        asked,
        answered,
        percent: (asked > 0).then(|| (answered * 200 + asked) / (2 * asked)),
        median_minutes: (!waits.is_empty()).then(|| waits[(waits.len() - 1) / 2]),
    }
}

/// What a seller's dashboard counts to offer quick actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SellerCounts {
    pub gigs: i64,
    /// Orders in progress or with a revision asked for.
    pub to_deliver: i64,
    /// Of those, past their delivery date.
    pub late: i64,
    pub unread_messages: i64,
    /// Available earnings (minor units) and the smallest withdrawal.
    pub available_minor: i64,
    pub withdrawal_min_minor: i64,
}

/// A link on the dashboard; `urgent` ones are shown first and marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuickAction {
    pub label: String,
    pub href: &'static str,
    pub urgent: bool,
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The seller's quick actions: work waiting first, then the usual links.
pub fn seller_actions(c: &SellerCounts) -> Vec<QuickAction> {
    let mut out = Vec::new();
    let act = |label: String, href, urgent| QuickAction { label, href, urgent };
    if c.late > 0 {
        out.push(act(format!("Deliver {} now", plural(c.late, "late order", "late orders")), "/dashboard#pipeline", true));
    }
    if c.to_deliver > c.late {
        out.push(act(format!("Work on {}", plural(c.to_deliver - c.late, "order", "orders")), "/dashboard#pipeline", false));
    }
    if c.unread_messages > 0 {
        out.push(act(format!("Answer {}", plural(c.unread_messages, "unread message", "unread messages")), "/messages", true));
    }
    if c.available_minor > 0 && c.available_minor >= c.withdrawal_min_minor {
        out.push(act("Withdraw your available earnings".into(), "/wallet", false));
    }
    let first = if c.gigs == 0 { "Create your first gig" } else { "Create a gig" };
    out.push(act(first.into(), "/gigs/new", c.gigs == 0));
    out.push(act("Edit your seller profile".into(), "/profile", false));
    out.sort_by_key(|a| !a.urgent);
    out
}

/// What the buyer has to do on an order in this status, if anything.
pub fn buyer_todo(status: OrderStatus) -> Option<&'static str> {
    match status {
        OrderStatus::Placed => Some("Pay for this order"),
        OrderStatus::Paid => Some("Send your requirements"),
        OrderStatus::Delivered => Some("Review the delivery"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).unwrap()
    }

    fn earned() -> Vec<Earned> {
        vec![
            Earned { at: at(9, 30, 23), amount_minor: 500 },
            Earned { at: at(10, 1, 0), amount_minor: 8000 },
            Earned { at: at(11, 28, 9), amount_minor: 2000 },
            Earned { at: at(11, 30, 1), amount_minor: 1500 },
            Earned { at: at(11, 30, 22), amount_minor: 2500 },
        ]
    }

    #[test]
    fn earnings_per_day_cover_each_day_up_to_today() {
        let days = earnings_by_day(&earned(), at(11, 30, 12).date_naive(), 3);
        let got: Vec<(&str, i64, i64)> = days.iter().map(|p| (p.label.as_str(), p.orders, p.amount_minor)).collect();
        assert_eq!(got, vec![("2026-11-28", 1, 2000), ("2026-11-29", 0, 0), ("2026-11-30", 2, 4000)]);
        assert!(earnings_by_day(&[], at(1, 1, 0).date_naive(), 0).is_empty());
    }

    #[test]
    fn earnings_per_month_split_at_midnight_and_cross_a_year() {
        let months = earnings_by_month(&earned(), at(11, 30, 12), 4);
        let got: Vec<(&str, i64, i64)> = months.iter().map(|p| (p.label.as_str(), p.orders, p.amount_minor)).collect();
        assert_eq!(got, vec![("2026-08", 0, 0), ("2026-09", 1, 500), ("2026-10", 1, 8000), ("2026-11", 3, 6000)]);
        let jan = Utc.with_ymd_and_hms(2027, 1, 3, 0, 0, 0).unwrap();
        let labels: Vec<String> = earnings_by_month(&earned(), jan, 3).into_iter().map(|p| p.label).collect();
        assert_eq!(labels, vec!["2026-11", "2026-12", "2027-01"]);
    }

    #[test]
    fn the_pipeline_follows_the_flow_and_merges_completed() {
        use OrderStatus::*;
        let got: Vec<(&str, i64)> = pipeline(&[(Delivered, 1), (InProgress, 2), (Released, 1), (Completed, 1), (Cancelled, 1), (Paid, 0)])
            .iter()
            .map(|s| (s.label, s.count))
            .collect();
        assert_eq!(got, vec![("In progress", 2), ("Delivered", 1), ("Completed", 2), ("Cancelled", 1)]);
        assert_eq!(pipeline(&[(Completed, 4)])[0].statuses, vec![Completed, Released]);
        assert!(pipeline(&[]).is_empty());
    }

    fn said(c: &str, from_buyer: bool, at: DateTime<Utc>) -> Said {
        Said { conversation: c.into(), from_buyer, at }
    }

    /// (asked, answered, percent, median minutes).
    type Want = (i64, i64, Option<i64>, Option<i64>);

    #[test]
    fn response_rate_table() {
        let now = at(11, 30, 12);
        let since = at(11, 1, 0);
        let cases: Vec<(&str, Vec<Said>, Want)> = vec![
            ("nothing asked", vec![], (0, 0, None, None)),
            ("answered in two hours", vec![said("a", true, at(11, 10, 8)), said("a", false, at(11, 10, 10))], (1, 1, Some(100), Some(120))),
            (
                "a run of buyer messages is one question",
                vec![said("a", true, at(11, 10, 8)), said("a", true, at(11, 10, 9)), said("a", false, at(11, 10, 9))],
                (1, 1, Some(100), Some(60)),
            ),
            ("answered too late", vec![said("a", true, at(11, 10, 8)), said("a", false, at(11, 12, 8))], (1, 0, Some(0), None)),
            ("never answered, long ago", vec![said("a", true, at(11, 10, 8))], (1, 0, Some(0), None)),
            ("still inside the limit", vec![said("a", true, at(11, 30, 1))], (0, 0, None, None)),
            ("before the window", vec![said("a", true, at(10, 20, 1))], (0, 0, None, None)),
            (
                "the seller writing first asks nothing",
                vec![said("a", false, at(11, 10, 8)), said("a", true, at(11, 10, 9)), said("a", false, at(11, 10, 9))],
                (1, 1, Some(100), Some(0)),
            ),
            (
                "conversations are apart; two of three answered",
                vec![
                    said("b", true, at(11, 5, 0)),
                    said("a", true, at(11, 5, 0)),
                    said("c", false, at(11, 5, 3)),
                    said("a", false, at(11, 5, 1)),
                    said("c", true, at(11, 5, 0)),
                ],
                (3, 2, Some(67), Some(60)),
            ),
        ];
        for (name, msgs, want) in cases {
            let r = response_rate(&msgs, now, since);
            assert_eq!((r.asked, r.answered, r.percent, r.median_minutes), want, "{name}");
        }
    }

    #[test]
    fn quick_actions_put_waiting_work_first() {
        let labels = |c: SellerCounts| seller_actions(&c).into_iter().map(|a| (a.label, a.urgent)).collect::<Vec<_>>();
        assert_eq!(
            labels(SellerCounts::default()),
            vec![("Create your first gig".into(), true), ("Edit your seller profile".into(), false)]
        );
        let busy = SellerCounts { gigs: 2, to_deliver: 3, late: 1, unread_messages: 1, available_minor: 5000, withdrawal_min_minor: 2000 };
        assert_eq!(
            labels(busy),
            vec![
                ("Deliver 1 late order now".into(), true),
                ("Answer 1 unread message".into(), true),
                ("Work on 2 orders".into(), false),
                ("Withdraw your available earnings".into(), false),
                ("Create a gig".into(), false),
                ("Edit your seller profile".into(), false),
            ]
        );
        let below_minimum = SellerCounts { gigs: 1, available_minor: 1999, withdrawal_min_minor: 2000, ..Default::default() };
        assert!(!labels(below_minimum).iter().any(|(l, _)| l.starts_with("Withdraw")));
    }

    #[test]
    fn what_the_buyer_must_do() {
        for s in OrderStatus::ALL {
            let want = matches!(s, OrderStatus::Placed | OrderStatus::Paid | OrderStatus::Delivered);
            assert_eq!(buyer_todo(*s).is_some(), want, "{s}");
        }
    }
}
