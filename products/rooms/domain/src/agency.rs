//! Agencies (requirement 6): what an agency's name may be, the states an
//! agency and an application to join one go through, the member limit, and
//! the periods the dashboard reports earnings for. Pure rules; the store
//! applies them in one transaction each.

use crate::account::Country;
use crate::progress::Period;
use platform_kernel::{FieldError, FieldErrors};

/// An agency's name: 1 to 20 characters, fixed after creation (6.1).
pub const MAX_NAME: usize = 20;
/// Members an agency takes unless staff raise it (6.6).
pub const DEFAULT_MEMBER_LIMIT: i64 = 50;
/// Agency search needs at least this many characters (6.1).
pub const MIN_SEARCH: usize = 3;
/// The most members staff may allow one agency.
pub const MAX_MEMBER_LIMIT: i64 = 10_000;

platform_kernel::text_enum! {
    /// Where an agency is: staff approve (`active`) or reject a new one, and
    /// may suspend and reactivate it. Only an active agency takes members,
    /// and only its members' gifts earn it its share (6.2).
    pub enum AgencyStatus { Pending => "pending", Active => "active", Suspended => "suspended", Rejected => "rejected" }
}

platform_kernel::text_enum! {
    /// An application to join: only `pending` moves, and only once.
    pub enum ApplicationStatus { Pending => "pending", Accepted => "accepted", Rejected => "rejected", Withdrawn => "withdrawn" }
}

platform_kernel::text_enum! {
    /// An owner's invitation: only `pending` moves, and only once; unanswered
    /// after [`crate::limits::AGENCY_INVITATION_EXPIRY`] it is `expired`.
    pub enum InvitationStatus { Pending => "pending", Accepted => "accepted", Declined => "declined", Expired => "expired", Cancelled => "cancelled", Withdrawn => "withdrawn" }
}

/// A new agency's name and country, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAgency {
    pub name: String,
    pub country: Country,
}

/// Checks a new agency's name (trimmed, 1–20 characters, no control
/// characters) and country, naming every bad field.
pub fn check_new(name: &str, country: &str) -> Result<NewAgency, FieldErrors> {
    let mut errs = FieldErrors::default();
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 {
        errs.add("name", "Give your agency a name");
    } else if chars > MAX_NAME {
        errs.add("name", format!("An agency name has at most {MAX_NAME} characters"));
    } else if name.chars().any(char::is_control) {
        errs.add("name", "The name may not contain control characters");
    }
    let country = Country::parse(country);
    if let Err(e) = &country {
        errs.add(e.field, e.message.clone());
    }
    match (errs.0.is_empty(), country) {
        (true, Ok(country)) => Ok(NewAgency { name: name.to_string(), country }),
        _ => Err(errs),
    }
}

/// An application's contact details (6.1), checked.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Details {
    pub phone: String,
    pub address: String,
    /// The referrer's ID (a public number), empty when none.
    pub referrer: String,
}

/// Checks an application's phone (7–20 digits, spaces, `+`, `-`), address
/// (1–200 characters) and referrer ID (digits, at most 20; may be empty),
/// naming every bad field.
pub fn check_details(phone: &str, address: &str, referrer: &str) -> Result<Details, FieldErrors> {
    let mut errs = FieldErrors::default();
    let phone = phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if !(7..=20).contains(&digits)
        || phone.chars().count() > 24
        || !phone.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-'))
    {
        errs.add("phone", "Enter a phone number: 7 to 20 digits, with + - or spaces");
    }
    let address = address.trim();
    let n = address.chars().count();
    if n == 0 {
        errs.add("address", "Enter the agency's address");
    } else if n > 200 || address.chars().any(|c| c.is_control() && c != '\n') {
        errs.add("address", "An address has at most 200 characters, without control characters");
    }
    let referrer = referrer.trim();
    if referrer.len() > 20 || !referrer.chars().all(|c| c.is_ascii_digit()) {
        errs.add("referrer", "A referrer ID is a public number (digits only)");
    }
    if errs.0.is_empty() {
        Ok(Details { phone: phone.to_string(), address: address.to_string(), referrer: referrer.to_string() })
    } else {
        Err(errs)
    }
}

/// The words of a search, when there are enough of them to search (6.1).
pub fn search_words(q: &str) -> Result<String, FieldError> {
    let q = q.trim();
    if q.chars().count() < MIN_SEARCH {
        return Err(FieldError::new("q", format!("Type at least {MIN_SEARCH} characters to search agencies")));
    }
    Ok(q.to_lowercase())
}

/// A member limit staff set: 1 to [`MAX_MEMBER_LIMIT`], and never below the
/// members the agency has now.
pub fn check_member_limit(limit: i64, members: i64) -> Result<i64, FieldError> {
    if !(1..=MAX_MEMBER_LIMIT).contains(&limit) {
        return Err(FieldError::new("member_limit", format!("Choose a limit from 1 to {MAX_MEMBER_LIMIT}")));
    }
    if limit < members {
        return Err(FieldError::new("member_limit", format!("The agency has {members} members; remove some before lowering the limit")));
    }
    Ok(limit)
}

/// Whether an agency with `members` of `limit` can take one more.
pub fn has_room(members: i64, limit: i64) -> bool {
    members < limit
}

/// The status staff may move an agency to from `from`: approve or reject a
/// pending one, suspend an active one, reactivate a suspended one.
pub fn staff_move(from: AgencyStatus, to: AgencyStatus) -> bool {
    use AgencyStatus as S;
    matches!((from, to), (S::Pending, S::Active) | (S::Pending, S::Rejected) | (S::Active, S::Suspended) | (S::Suspended, S::Active))
}

/// The dashboard's earnings periods: day, week or month.
pub fn dashboard_period(p: &str) -> Result<Period, FieldError> {
    match p.trim() {
        "" | "month" => Ok(Period::Monthly),
        "week" => Ok(Period::Weekly),
        "day" => Ok(Period::Daily),
        _ => Err(FieldError::new("period", "Choose day, week or month")),
    }
}

// ------------------------------------------------------- income targets (BR-6)

/// One income target: coins received in a month, and the salary (US cents)
/// it brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct IncomeTarget {
    pub coins: i64,
    pub salary_cents: i64,
}

/// BR-6's table: 10,000 / 20,000 / 30,000 coins bring $10 / $20 / $30.
pub const DEFAULT_TARGETS: [IncomeTarget; 3] = [
    IncomeTarget { coins: 10_000, salary_cents: 1_000 },
    IncomeTarget { coins: 20_000, salary_cents: 2_000 },
    IncomeTarget { coins: 30_000, salary_cents: 3_000 },
];

/// Excess-coins percentage (IECP, open value): the share of a month's coins
/// beyond the reached target that becomes diamonds at month end.
pub const DEFAULT_IECP: i64 = 50;

/// Valid mic time counts at most this much per day (BR-6).
pub const MIC_SECONDS_PER_DAY: i64 = 5 * 3600;

/// The highest target `coins` reaches, if any: targets do not add.
pub fn reached(targets: &[IncomeTarget], coins: i64) -> Option<IncomeTarget> {
    targets.iter().filter(|t| t.coins > 0 && coins >= t.coins).max_by_key(|t| (t.coins, t.salary_cents)).copied()
}

/// The salary a member's month earns so far: that of the highest target.
pub fn salary_cents(targets: &[IncomeTarget], coins: i64) -> i64 {
    reached(targets, coins).map_or(0, |t| t.salary_cents.max(0))
}

/// What is still due when `paid_cents` of the month's salary was paid
/// already: each reward is claimed once, and a higher target pays only its
/// difference (never negative).
pub fn salary_due(targets: &[IncomeTarget], coins: i64, paid_cents: i64) -> i64 {
    (salary_cents(targets, coins) - paid_cents.max(0)).max(0)
}

/// Valid mic seconds over some days: each day's seat time, capped at
/// [`MIC_SECONDS_PER_DAY`].
pub fn valid_mic_seconds(per_day: &[i64]) -> i64 {
    per_day.iter().map(|d| (*d).clamp(0, MIC_SECONDS_PER_DAY)).sum()
}

/// Seat time per UTC day from seat sessions (`(started, ended)`; an open
/// session is `None` and runs to `to`), counting only what falls in
/// [`from`, `to`): each session is clipped to the window and split at
/// midnight. Days in order, each once; sessions never overlap (one seat
/// per account), so the sums are exact.
pub fn mic_seconds_by_day(
    sessions: &[(chrono::DateTime<chrono::Utc>, Option<chrono::DateTime<chrono::Utc>>)],
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Vec<(chrono::NaiveDate, i64)> {
    let mut days: std::collections::BTreeMap<chrono::NaiveDate, i64> = Default::default();
    for (start, end) in sessions {
        let mut at = (*start).max(from);
        let end = end.unwrap_or(to).min(to);
        while at < end {
            let day = at.date_naive();
            let midnight = day.succ_opt().map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc()).unwrap_or(end);
            let stop = midnight.min(end);
            *days.entry(day).or_default() += (stop - at).num_seconds();
            at = stop;
        }
    }
    days.into_iter().collect()
}

/// A member's month, settled at its end (or at the member's leaving date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MonthSettlement {
    /// Coins received in the month.
    pub coins: i64,
    /// The target reached (its coins), 0 for none.
    pub target_coins: i64,
    /// The month's salary in US cents.
    pub salary_cents: i64,
    /// Coins beyond the reached target.
    pub excess_coins: i64,
    /// Diamonds the excess brings: `excess × IECP / 100`, rounded down.
    pub excess_diamonds: i64,
}

/// Settles a month: the salary of the highest target reached, and the coins
/// it does not cover × IECP as diamonds. Progress then starts again.
pub fn settle_month(targets: &[IncomeTarget], coins: i64, iecp: i64) -> MonthSettlement {
    let coins = coins.max(0);
    let t = reached(targets, coins);
    let target_coins = t.map_or(0, |t| t.coins);
    let excess_coins = coins - target_coins;
    let excess_diamonds = (i128::from(excess_coins) * i128::from(iecp.clamp(0, 100)) / 100) as i64;
    MonthSettlement { coins, target_coins, salary_cents: t.map_or(0, |t| t.salary_cents.max(0)), excess_coins, excess_diamonds }
}

// ------------------------------------------------ salary exchange (6.4, BR-2)

/// BR-2: coins for one US dollar of salary ($1 = 100 coins).
pub const SALARY_COINS_PER_DOLLAR: i64 = 100;

/// The most one exchange may move (the ledger's bound on one posting).
const SALARY_EXCHANGE_MAX: i64 = 1_000_000_000_000_000;

/// Why an amount of salary cannot be exchanged; each names the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalaryExchangeRefusal {
    /// Not a positive number of cents.
    NotPositive,
    /// The cents do not make a whole number of coins at the rate.
    NotWhole,
    /// More than one posting may move.
    TooLarge,
    /// The rate itself is not positive.
    BadRate,
}

impl SalaryExchangeRefusal {
    pub fn message(self) -> String {
        match self {
            Self::NotPositive => "Enter an amount of at least $0.01.".into(),
            Self::NotWhole => "That amount does not make a whole number of coins; choose another.".into(),
            Self::TooLarge => "That amount is too large to exchange at once.".into(),
            Self::BadRate => "Salary exchange is not available at the moment.".into(),
        }
    }
}

/// Coins for `cents` of salary at `coins_per_dollar` (BR-2): exact, never
/// rounded — an amount that would give a fraction of a coin is refused,
/// as are amounts that overflow what one posting may move.
pub fn salary_to_coins(cents: i64, coins_per_dollar: i64) -> Result<i64, SalaryExchangeRefusal> {
    if coins_per_dollar < 1 {
        return Err(SalaryExchangeRefusal::BadRate);
    }
    if cents < 1 {
        return Err(SalaryExchangeRefusal::NotPositive);
    }
    if cents > SALARY_EXCHANGE_MAX {
        return Err(SalaryExchangeRefusal::TooLarge);
    }
    let scaled = i128::from(cents) * i128::from(coins_per_dollar);
    if scaled % 100 != 0 {
        return Err(SalaryExchangeRefusal::NotWhole);
    }
    match i64::try_from(scaled / 100) {
        Ok(c) if c <= SALARY_EXCHANGE_MAX => Ok(c),
        _ => Err(SalaryExchangeRefusal::TooLarge),
    }
}

/// Dollars as typed in a form (`12`, `12.5`, `12.50`, `$12.50`) as cents;
/// `None` for anything else (negative, more than two decimals, not a number).
pub fn parse_dollars(text: &str) -> Option<i64> {
    let t = text.trim().trim_start_matches('$').trim();
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) => (w, f),
        None => (t, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) || frac.len() > 2 || whole.len() > 15 {
        return None;
    }
    let w: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let f: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().ok()? };
    w.checked_mul(100)?.checked_add(f)
}

#[cfg(test)]
mod salary_exchange_tests {
    use super::*;

    #[test]
    fn cents_to_coins() {
        use SalaryExchangeRefusal::*;
        let max = SALARY_EXCHANGE_MAX;
        let cases: &[(i64, i64, Result<i64, SalaryExchangeRefusal>)] = &[
            (1, SALARY_COINS_PER_DOLLAR, Ok(1)),
            (100, SALARY_COINS_PER_DOLLAR, Ok(100)),
            (12_345, SALARY_COINS_PER_DOLLAR, Ok(12_345)),
            (0, SALARY_COINS_PER_DOLLAR, Err(NotPositive)),
            (-5, SALARY_COINS_PER_DOLLAR, Err(NotPositive)),
            (i64::MIN, SALARY_COINS_PER_DOLLAR, Err(NotPositive)),
            // A rate giving fractions: refused, not rounded either way.
            (1, 150, Err(NotWhole)),
            (3, 50, Err(NotWhole)),
            (2, 150, Ok(3)),
            (4, 50, Ok(2)),
            // Overflow: beyond one posting, or i64 after scaling.
            (max, SALARY_COINS_PER_DOLLAR, Ok(max)),
            (max + 1, SALARY_COINS_PER_DOLLAR, Err(TooLarge)),
            (i64::MAX, SALARY_COINS_PER_DOLLAR, Err(TooLarge)),
            (max, 200, Err(TooLarge)),
            (max, i64::MAX, Err(TooLarge)),
            (100, 0, Err(BadRate)),
            (100, -100, Err(BadRate)),
        ];
        for (cents, rate, want) in cases {
            assert_eq!(salary_to_coins(*cents, *rate), *want, "{cents} cents at {rate}");
        }
    }

    #[test]
    fn dollars_typed() {
        let cases: &[(&str, Option<i64>)] = &[
            ("12", Some(1200)),
            ("12.5", Some(1250)),
            ("12.50", Some(1250)),
            (" $0.07 ", Some(7)),
            (".5", Some(50)),
            ("3.", Some(300)),
            ("0", Some(0)),
            ("", None),
            (".", None),
            ("-1", None),
            ("1.234", None),
            ("1,50", None),
            ("abc", None),
            ("1e3", None),
            ("9999999999999999", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_dollars(text), *want, "{text:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_target_reached_pays_and_targets_do_not_add() {
        let t = &DEFAULT_TARGETS;
        for (coins, salary) in [
            (0, 0),
            (9_999, 0),
            (10_000, 1_000),
            (19_999, 1_000),
            (20_000, 2_000),
            (29_999, 2_000),
            (30_000, 3_000),
            (1_000_000, 3_000),
            (-5, 0),
        ] {
            assert_eq!(salary_cents(t, coins), salary, "{coins}");
        }
        // Out of order and with an empty table.
        let shuffled = [t[2], t[0], t[1]];
        assert_eq!(reached(&shuffled, 25_000), Some(t[1]));
        assert_eq!(reached(&[], 25_000), None);
    }

    #[test]
    fn each_reward_is_claimed_once() {
        let t = &DEFAULT_TARGETS;
        for (coins, paid, due) in [
            (10_000, 0, 1_000),
            (10_000, 1_000, 0),
            (20_000, 1_000, 1_000),
            (20_000, 2_000, 0),
            (30_000, 1_000, 2_000),
            (15_000, 2_000, 0),
            (5_000, 0, 0),
        ] {
            assert_eq!(salary_due(t, coins, paid), due, "{coins} paid {paid}");
        }
    }

    #[test]
    fn seat_sessions_split_by_day_within_the_window() {
        use chrono::{NaiveDate, TimeZone, Utc};
        let t = |d: u32, h: u32, m: u32| Utc.with_ymd_and_hms(2026, 3, d, h, m, 0).unwrap();
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let (from, to) = (t(1, 0, 0), t(10, 0, 0));
        type Case = (Vec<(chrono::DateTime<Utc>, Option<chrono::DateTime<Utc>>)>, Vec<(NaiveDate, i64)>);
        let cases: Vec<Case> = vec![
            (vec![], vec![]),
            // Within a day.
            (vec![(t(2, 10, 0), Some(t(2, 11, 30)))], vec![(day(2), 5_400)]),
            // Across midnight: split.
            (vec![(t(2, 23, 0), Some(t(3, 1, 0)))], vec![(day(2), 3_600), (day(3), 3_600)]),
            // Two sessions the same day add; zero length counts nothing.
            (
                vec![(t(4, 8, 0), Some(t(4, 9, 0))), (t(4, 12, 0), Some(t(4, 12, 30))), (t(4, 13, 0), Some(t(4, 13, 0)))],
                vec![(day(4), 5_400)],
            ),
            // Clipped to the window at both ends.
            (vec![(t(1, 0, 0) - chrono::Duration::hours(2), Some(t(1, 1, 0)))], vec![(day(1), 3_600)]),
            (vec![(t(9, 23, 0), Some(t(10, 5, 0)))], vec![(day(9), 3_600)]),
            // Open: runs to the window's end.
            (vec![(t(9, 22, 30), None)], vec![(day(9), 5_400)]),
            // Wholly outside.
            (vec![(t(11, 1, 0), Some(t(11, 2, 0))), (t(1, 0, 0) - chrono::Duration::hours(5), Some(t(1, 0, 0)))], vec![]),
            // A whole day and more.
            (vec![(t(5, 12, 0), Some(t(7, 6, 0)))], vec![(day(5), 43_200), (day(6), 86_400), (day(7), 21_600)]),
        ];
        for (sessions, want) in cases {
            assert_eq!(mic_seconds_by_day(&sessions, from, to), want, "{sessions:?}");
        }
    }

    #[test]
    fn mic_hours_are_capped_at_five_a_day() {
        for (days, want) in [
            (vec![], 0),
            (vec![3_600], 3_600),
            (vec![5 * 3_600], 18_000),
            (vec![6 * 3_600], 18_000),
            (vec![6 * 3_600, 3_600, -10], 21_600),
            (vec![24 * 3_600; 3], 54_000),
        ] {
            assert_eq!(valid_mic_seconds(&days), want, "{days:?}");
        }
    }

    #[test]
    fn month_end_turns_the_uncovered_coins_into_diamonds() {
        let t = &DEFAULT_TARGETS;
        for (coins, iecp, target, salary, excess, diamonds) in [
            (0, 50, 0, 0, 0, 0),
            (9_999, 50, 0, 0, 9_999, 4_999),
            (10_000, 50, 10_000, 1_000, 0, 0),
            (12_345, 50, 10_000, 1_000, 2_345, 1_172),
            (25_001, 50, 20_000, 2_000, 5_001, 2_500),
            (40_000, 50, 30_000, 3_000, 10_000, 5_000),
            (40_000, 0, 30_000, 3_000, 10_000, 0),
            (40_000, 100, 30_000, 3_000, 10_000, 10_000),
            (40_000, 250, 30_000, 3_000, 10_000, 10_000),
        ] {
            let s = settle_month(t, coins, iecp);
            assert_eq!(
                (s.target_coins, s.salary_cents, s.excess_coins, s.excess_diamonds),
                (target, salary, excess, diamonds),
                "{coins} at {iecp}%"
            );
            assert_eq!(s.target_coins + s.excess_coins, s.coins);
        }
    }

    #[test]
    fn a_member_earning_ten_thousand_brings_the_agency_two_hundred() {
        // BR-6 with ASP 2%: the agency's share of the receiver's coins.
        let rates = crate::economy::SplitRates::default();
        assert_eq!(10_000 * rates.agency_pct / 100, 200);
        let s = crate::economy::split(1_000, true, rates);
        assert_eq!((s.receiver, s.agency), (700, 14));
    }

    #[test]
    fn names_and_countries() {
        let ok = check_new("  Star Agency ", "ng").unwrap();
        assert_eq!((ok.name.as_str(), ok.country.as_str()), ("Star Agency", "NG"));
        assert!(check_new(&"x".repeat(20), "KE").is_ok());
        assert!(check_new(&"é".repeat(20), "KE").is_ok(), "characters, not bytes");
        for (name, country, fields) in [
            ("", "NG", vec!["name"]),
            (&*"x".repeat(21), "NG", vec!["name"]),
            ("a\u{7}b", "NG", vec!["name"]),
            ("Stars", "XX", vec!["country"]),
            ("", "", vec!["name", "country"]),
        ] {
            let e = check_new(name, country).unwrap_err();
            assert_eq!(e.0.iter().map(|f| f.field).collect::<Vec<_>>(), fields, "{name:?} {country:?}");
        }
    }

    #[test]
    fn application_details() {
        let d = check_details(" +234 801-234-5678 ", " 1 Allen Avenue, Ikeja ", " 100234 ").unwrap();
        assert_eq!((d.phone.as_str(), d.address.as_str(), d.referrer.as_str()), ("+234 801-234-5678", "1 Allen Avenue, Ikeja", "100234"));
        assert!(check_details("0801234567", "Lagos", "").is_ok(), "no referrer");
        for (phone, address, referrer, fields) in [
            ("12345", "Lagos", "", vec!["phone"]),
            ("0801234567x", "Lagos", "", vec!["phone"]),
            (&*"1".repeat(21), "Lagos", "", vec!["phone"]),
            ("0801234567", "", "", vec!["address"]),
            ("0801234567", &*"a".repeat(201), "", vec!["address"]),
            ("0801234567", "Lagos", "abc", vec!["referrer"]),
            ("", "", "x", vec!["phone", "address", "referrer"]),
        ] {
            let e = check_details(phone, address, referrer).unwrap_err();
            assert_eq!(e.0.iter().map(|f| f.field).collect::<Vec<_>>(), fields, "{phone:?} {address:?} {referrer:?}");
        }
    }

    #[test]
    fn search_needs_three_characters() {
        assert_eq!(search_words(" StA ").unwrap(), "sta");
        assert_eq!(search_words("ab").unwrap_err().field, "q");
        assert_eq!(search_words("  ab  ").unwrap_err().field, "q");
    }

    #[test]
    fn member_limits() {
        assert_eq!(check_member_limit(50, 10), Ok(50));
        assert_eq!(check_member_limit(10, 10), Ok(10));
        assert!(check_member_limit(9, 10).is_err());
        assert!(check_member_limit(0, 0).is_err());
        assert!(check_member_limit(MAX_MEMBER_LIMIT + 1, 0).is_err());
        assert!(has_room(49, 50));
        assert!(!has_room(50, 50));
        assert!(!has_room(51, 50));
    }

    #[test]
    fn staff_moves() {
        use AgencyStatus as S;
        let all = [S::Pending, S::Active, S::Suspended, S::Rejected];
        let allowed: Vec<(S, S)> = all.iter().flat_map(|a| all.iter().map(move |b| (*a, *b))).filter(|(a, b)| staff_move(*a, *b)).collect();
        assert_eq!(allowed, vec![(S::Pending, S::Active), (S::Pending, S::Rejected), (S::Active, S::Suspended), (S::Suspended, S::Active)]);
    }

    #[test]
    fn periods() {
        assert_eq!(dashboard_period("").unwrap(), Period::Monthly);
        assert_eq!(dashboard_period("day").unwrap(), Period::Daily);
        assert_eq!(dashboard_period("week").unwrap(), Period::Weekly);
        assert_eq!(dashboard_period("year").unwrap_err().field, "period");
    }
}
