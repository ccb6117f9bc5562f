//! Reviews after an order is completed: the buyer reviews the seller
//! (overall 1–5, communication, service as described, would recommend),
//! the seller reviews the buyer (overall 1–5); one each per order, editable
//! for a short window; the seller may reply once to the buyer's review.
//! [`analyze`] turns a seller's reviews into the numbers the dashboard,
//! gig pages and profiles show.

use crate::order::OrderStatus;
use chrono::{DateTime, Datelike, Duration, Utc};
use platform_kernel::{FieldError, FieldErrors};
use serde::{Deserialize, Serialize};

platform_kernel::id_type!(
    /// One review of one side of one order.
    ReviewId,
);

platform_kernel::text_enum! {
    /// Who is reviewed.
    pub enum Subject {
        /// The buyer reviews the seller.
        Seller => "seller",
        /// The seller reviews the buyer.
        Buyer => "buyer",
    }
}

/// How long a review may be changed after it was first written.
pub const EDIT_WINDOW: Duration = Duration::hours(24);
pub const MAX_COMMENT_CHARS: usize = 2_000;
pub const MAX_REPLY_CHARS: usize = 1_000;

/// A review as submitted, before checking.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReviewInput {
    pub overall: i64,
    pub communication: Option<i64>,
    pub as_described: Option<i64>,
    pub recommend: Option<bool>,
    pub comment: String,
}

/// A checked review: the buyer's has every part, the seller's only `overall`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ratings {
    pub overall: i32,
    pub communication: Option<i32>,
    pub as_described: Option<i32>,
    pub recommend: Option<bool>,
    pub comment: String,
}

fn stars(errors: &mut FieldErrors, field: &'static str, label: &str, v: Option<i64>) -> Option<i32> {
    match v {
        Some(n @ 1..=5) => Some(n as i32),
        Some(_) => {
            errors.add(field, format!("{label} is 1 to 5 stars."));
            None
        }
        None => {
            errors.add(field, format!("Rate the {}.", label.to_lowercase()));
            None
        }
    }
}

/// Checks a review of `subject`; every problem is named by its field.
pub fn check(subject: Subject, input: &ReviewInput) -> Result<Ratings, FieldErrors> {
    let mut e = FieldErrors::new();
    let overall = stars(&mut e, "overall", "Overall rating", Some(input.overall)).unwrap_or(0);
    let (communication, as_described, recommend) = match subject {
        Subject::Seller => {
            let c = stars(&mut e, "communication", "Communication", input.communication);
            let d = stars(&mut e, "as_described", "Service as described", input.as_described);
            if input.recommend.is_none() {
                e.add("recommend", "Say whether you would recommend this seller.");
            }
            (c, d, input.recommend)
        }
        Subject::Buyer => (None, None, None),
    };
    let comment = input.comment.trim().replace("\r\n", "\n");
    if comment.chars().count() > MAX_COMMENT_CHARS {
        e.add("comment", format!("A review is limited to {MAX_COMMENT_CHARS} characters."));
    }
    e.into_result().map(|()| Ratings { overall, communication, as_described, recommend, comment })
}

/// Checks a seller's reply.
pub fn check_reply(text: &str) -> Result<String, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(FieldError::new("reply", "Write a reply."));
    }
    if t.chars().count() > MAX_REPLY_CHARS {
        return Err(FieldError::new("reply", format!("A reply is limited to {MAX_REPLY_CHARS} characters.")));
    }
    Ok(t.to_string())
}

/// Whether an order in `status` may be reviewed: once the work was
/// accepted (completed, and after the money was released).
pub fn reviewable(status: OrderStatus) -> Result<(), &'static str> {
    match status {
        OrderStatus::Completed | OrderStatus::Released => Ok(()),
        _ => Err("Reviews open once the order is completed."),
    }
}

/// Whether a review written at `created` may still be changed at `now`.
pub fn editable(created: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - created < EDIT_WINDOW
}

/// One review of a seller, as analytics see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub overall: i32,
    pub communication: i32,
    pub as_described: i32,
    pub recommend: bool,
    /// The reviewed gig's category name.
    pub category: String,
    pub at: DateTime<Utc>,
}

/// A seller's review numbers. Averages are hundredths of a star, rounded
/// half up (`480` is 4.80); percentages are whole, rounded half up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Analytics {
    pub count: i64,
    pub average_x100: Option<i64>,
    pub communication_x100: Option<i64>,
    pub as_described_x100: Option<i64>,
    pub recommend_percent: Option<i64>,
    /// Reviews with 5, 4, 3, 2 and 1 stars, in that order, with their share.
    pub distribution: Vec<Bucket>,
    /// Average and count per gig category, best first (ties by name).
    pub by_category: Vec<CategoryAverage>,
    /// The last months, oldest first, including months without reviews.
    pub trend: Vec<Month>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub stars: i32,
    pub count: i64,
    pub percent: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryAverage {
    pub category: String,
    pub count: i64,
    pub average_x100: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Month {
    /// `2026-11`.
    pub month: String,
    pub count: i64,
    pub average_x100: Option<i64>,
}

/// `sum / n` in hundredths, rounded half up.
fn avg_x100(sum: i64, n: i64) -> Option<i64> {
    (n > 0).then(|| (sum * 200 + n) / (2 * n))
}

fn percent(part: i64, whole: i64) -> i64 {
    if whole == 0 {
        0
    } else {
        (part * 200 + whole) / (2 * whole)
    }
}

/// The numbers for `points`, with a trend over the `months` months up to
/// and including the one `now` is in.
pub fn analyze(points: &[Point], now: DateTime<Utc>, months: u32) -> Analytics {
    let n = points.len() as i64;
    let sum = |f: fn(&Point) -> i64| points.iter().map(f).sum::<i64>();
    let distribution = (1..=5)
        .rev()
        .map(|s| {
            let count = points.iter().filter(|p| p.overall == s).count() as i64;
            Bucket { stars: s, count, percent: percent(count, n) }
        })
        .collect();
    let mut cats: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
    for p in points {
        let c = cats.entry(p.category.as_str()).or_default();
        c.0 += 1;
        c.1 += p.overall as i64;
    }
    let mut by_category: Vec<CategoryAverage> = cats
        .into_iter()
        .map(|(k, (count, total))| CategoryAverage { category: k.to_string(), count, average_x100: avg_x100(total, count).unwrap_or(0) })
        .collect();
    by_category.sort_by(|a, b| b.average_x100.cmp(&a.average_x100).then_with(|| a.category.cmp(&b.category)));
    let month_index = |t: DateTime<Utc>| t.year() as i64 * 12 + t.month0() as i64;
    let last = month_index(now);
    let trend = (0..months as i64)
        .rev()
        .map(|back| {
            let m = last - back;
            let in_month: Vec<&Point> = points.iter().filter(|p| month_index(p.at) == m).collect();
            let count = in_month.len() as i64;
            let total: i64 = in_month.iter().map(|p| p.overall as i64).sum();
            Month { month: format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1), count, average_x100: avg_x100(total, count) }
        })
        .collect();
    Analytics {
        count: n,
        average_x100: avg_x100(sum(|p| p.overall as i64), n),
        communication_x100: avg_x100(sum(|p| p.communication as i64), n),
        as_described_x100: avg_x100(sum(|p| p.as_described as i64), n),
        recommend_percent: (n > 0).then(|| percent(sum(|p| p.recommend as i64), n)),
        distribution,
        by_category,
        trend,
    }
}

/// "4.8" from hundredths (one decimal, rounded half up).
pub fn stars_text(x100: i64) -> String {
    let tenths = (x100 + 5) / 10;
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    fn p(overall: i32, communication: i32, as_described: i32, recommend: bool, category: &str, when: DateTime<Utc>) -> Point {
        Point { overall, communication, as_described, recommend, category: category.into(), at: when }
    }

    /// The fixed data set: seven reviews over three months and two categories.
    fn data() -> Vec<Point> {
        vec![
            p(5, 5, 5, true, "Logo design", at(2026, 9, 3)),
            p(4, 5, 4, true, "Logo design", at(2026, 9, 20)),
            p(5, 4, 5, true, "Web design", at(2026, 10, 1)),
            p(3, 2, 3, false, "Web design", at(2026, 10, 15)),
            p(5, 5, 5, true, "Logo design", at(2026, 11, 2)),
            p(1, 1, 2, false, "Web design", at(2026, 11, 10)),
            p(5, 5, 4, true, "Logo design", at(2026, 11, 28)),
        ]
    }

    #[test]
    fn analytics_of_the_fixed_data_set() {
        let a = analyze(&data(), at(2026, 11, 30), 4);
        // 28 stars over 7 reviews = 4.00; communication 27/7 = 3.857…; as described 28/7.
        assert_eq!((a.count, a.average_x100, a.communication_x100, a.as_described_x100), (7, Some(400), Some(386), Some(400)));
        // 5 of 7 would recommend: 71.4 %.
        assert_eq!(a.recommend_percent, Some(71));
        let dist: Vec<(i32, i64, i64)> = a.distribution.iter().map(|b| (b.stars, b.count, b.percent)).collect();
        assert_eq!(dist, vec![(5, 4, 57), (4, 1, 14), (3, 1, 14), (2, 0, 0), (1, 1, 14)]);
        let cats: Vec<(&str, i64, i64)> = a.by_category.iter().map(|c| (c.category.as_str(), c.count, c.average_x100)).collect();
        // Logo design 19/4 = 4.75; web design 9/3 = 3.00.
        assert_eq!(cats, vec![("Logo design", 4, 475), ("Web design", 3, 300)]);
        let trend: Vec<(&str, i64, Option<i64>)> = a.trend.iter().map(|m| (m.month.as_str(), m.count, m.average_x100)).collect();
        assert_eq!(trend, vec![("2026-08", 0, None), ("2026-09", 2, Some(450)), ("2026-10", 2, Some(400)), ("2026-11", 3, Some(367))]);
    }

    #[test]
    fn the_trend_crosses_a_year_and_nothing_is_no_numbers() {
        let a = analyze(&[p(4, 4, 4, true, "X", at(2025, 12, 31))], at(2026, 1, 5), 2);
        let trend: Vec<(&str, i64)> = a.trend.iter().map(|m| (m.month.as_str(), m.count)).collect();
        assert_eq!(trend, vec![("2025-12", 1), ("2026-01", 0)]);
        let none = analyze(&[], at(2026, 1, 5), 1);
        assert_eq!((none.count, none.average_x100, none.recommend_percent), (0, None, None));
        assert_eq!(none.distribution.iter().map(|b| b.percent).sum::<i64>(), 0);
    }

    #[test]
    fn averages_round_half_up_and_read_as_stars() {
        let cases = [((9, 2), 450), ((14, 3), 467), ((1, 3), 33), ((2, 3), 67), ((5, 1), 500)];
        for ((sum, n), want) in cases {
            assert_eq!(avg_x100(sum, n), Some(want), "{sum}/{n}");
        }
        let texts = [(400, "4.0"), (475, "4.8"), (386, "3.9"), (500, "5.0"), (104, "1.0"), (105, "1.1")];
        for (x, want) in texts {
            assert_eq!(stars_text(x), want, "{x}");
        }
    }

    #[test]
    fn reviews_are_checked_field_by_field() {
        let full =
            ReviewInput { overall: 5, communication: Some(4), as_described: Some(5), recommend: Some(true), comment: " Great ".into() };
        let r = check(Subject::Seller, &full).unwrap();
        assert_eq!(
            (r.overall, r.communication, r.as_described, r.recommend, r.comment.as_str()),
            (5, Some(4), Some(5), Some(true), "Great")
        );
        let cases: Vec<(Subject, ReviewInput, Vec<&str>)> = vec![
            (Subject::Seller, ReviewInput { overall: 0, ..full.clone() }, vec!["overall: Overall rating is 1 to 5 stars."]),
            (Subject::Seller, ReviewInput { overall: 6, ..full.clone() }, vec!["overall: Overall rating is 1 to 5 stars."]),
            (
                Subject::Seller,
                ReviewInput { communication: None, as_described: Some(9), recommend: None, ..full.clone() },
                vec![
                    "communication: Rate the communication.",
                    "as_described: Service as described is 1 to 5 stars.",
                    "recommend: Say whether you would recommend this seller.",
                ],
            ),
            (
                Subject::Buyer,
                ReviewInput { comment: "x".repeat(2001), ..full.clone() },
                vec!["comment: A review is limited to 2000 characters."],
            ),
        ];
        for (subject, input, want) in cases {
            let e = check(subject, &input).unwrap_err();
            let got: Vec<String> = e.0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect();
            assert_eq!(got, want);
        }
        // The seller's review of a buyer has only the overall rating.
        let b = check(Subject::Buyer, &ReviewInput { overall: 4, ..ReviewInput::default() }).unwrap();
        assert_eq!((b.communication, b.recommend), (None, None));
    }

    #[test]
    fn when_reviews_open_and_how_long_they_can_change() {
        for s in OrderStatus::ALL {
            assert_eq!(reviewable(*s).is_ok(), matches!(s, OrderStatus::Completed | OrderStatus::Released), "{s}");
        }
        let t = at(2026, 11, 1);
        assert!(editable(t, t + Duration::hours(23)));
        assert!(!editable(t, t + Duration::hours(24)));
        assert_eq!(check_reply("  Thanks! ").unwrap(), "Thanks!");
        assert_eq!(check_reply(" ").unwrap_err().field, "reply");
        assert!(check_reply(&"y".repeat(1001)).is_err());
    }
}
