//! The back office's rules: who may do what (roles and permissions on
//! platform-roles), where an account stands (active, suspended, banned,
//! deleted) and what that means to its owner, the marketplace settings an
//! admin may change and their bounds, and the daily figures of the
//! analytics page.

use crate::fees::FeePolicy;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use platform_roles::{Permission, RoleTable};
use serde::Serialize;

platform_kernel::text_enum! {
    /// What a back-office action needs.
    pub enum AdminPermission {
        /// Search users; suspend, ban, reinstate, verify.
        ManageUsers => "manage_users",
        /// The gig moderation queue: approve, remove with a reason.
        ModerateGigs => "moderate_gigs",
        /// Orders and disputes: release, refund, split.
        ResolveOrders => "resolve_orders",
        /// Withdrawals (approve, reject) and refunds.
        ManageMoney => "manage_money",
        /// Infected uploads, failed sign-ins.
        ViewSecurity => "view_security",
        /// Orders, GMV and fees by day.
        ViewAnalytics => "view_analytics",
        /// Fees and the clearance period.
        ManageSettings => "manage_settings",
        /// The audit log.
        ViewAudit => "view_audit",
    }
}

impl Permission for AdminPermission {
    const ALL: &'static [AdminPermission] = AdminPermission::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

platform_kernel::text_enum! {
    /// An admin's role (stored on the account).
    pub enum AdminRole {
        /// Everything.
        Owner => "owner",
        /// People and gigs.
        Moderator => "moderator",
        /// Orders, disputes and money.
        Finance => "finance",
    }
}

use AdminPermission as P;

/// What each role grants.
pub const ROLES: RoleTable<AdminRole, AdminPermission> = RoleTable {
    grants: &[
        (AdminRole::Owner, AdminPermission::ALL),
        (AdminRole::Moderator, &[P::ManageUsers, P::ModerateGigs, P::ViewSecurity, P::ViewAudit]),
        (AdminRole::Finance, &[P::ResolveOrders, P::ManageMoney, P::ViewAnalytics, P::ViewAudit]),
    ],
};

platform_kernel::text_enum! {
    /// Where an account stands.
    pub enum Standing {
        Active => "active",
        /// Temporarily: may be reinstated.
        Suspended => "suspended",
        /// For good (an admin may still reinstate by mistake-fixing).
        Banned => "banned",
        /// Closed by its owner; money records kept, anonymised.
        Deleted => "deleted",
    }
}

impl Standing {
    /// What a signed-out owner of the account is told when signing in.
    pub fn sign_in_refusal(self, reason: &str) -> Option<String> {
        let why = if reason.trim().is_empty() { String::new() } else { format!(" Reason: {}.", reason.trim().trim_end_matches('.')) };
        match self {
            Standing::Active | Standing::Deleted => None,
            Standing::Suspended => Some(format!(
                "Your account is suspended: you cannot sign in, buy or sell until the suspension is lifted.{why} Write to support if you think this is a mistake."
            )),
            Standing::Banned => Some(format!("Your account is banned: you can no longer sign in, buy or sell on GigStream.{why}")),
        }
    }
}

/// What an admin may do to an account's standing: only active,
/// suspended and banned accounts change, and never to `deleted`.
pub fn standing_change(from: Standing, to: Standing, reason: &str) -> Result<(), (&'static str, String)> {
    if from == Standing::Deleted {
        return Err(("standing", "This account was deleted by its owner; it cannot be changed.".into()));
    }
    if to == Standing::Deleted {
        return Err(("standing", "Accounts are deleted by their owners only.".into()));
    }
    if from == to {
        return Err(("standing", format!("The account is already {to}.")));
    }
    if to != Standing::Active && reason.trim().chars().count() < 5 {
        return Err(("reason", "Give the reason the user will be shown (at least 5 characters).".into()));
    }
    if reason.chars().count() > 500 {
        return Err(("reason", "Keep the reason under 500 characters.".into()));
    }
    Ok(())
}

/// The marketplace settings an admin changes in the back office (the
/// command line gives the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub fees: FeePolicy,
    pub clearance_days: u32,
}

/// The largest clearance period, in days.
pub const MAX_CLEARANCE_DAYS: u32 = 365;
/// The largest minimum buyer fee, in minor units.
pub const MAX_BUYER_FEE_MIN: i64 = 100_000;

impl Settings {
    /// Every bound, each refusal naming its field.
    pub fn check(&self) -> Result<(), Vec<(&'static str, String)>> {
        let mut bad = vec![];
        if self.fees.platform_fee_bps > 5_000 {
            bad.push(("platform_fee_percent", "The platform fee is between 0 and 50 %.".to_string()));
        }
        if self.fees.buyer_fee_bps > 5_000 {
            bad.push(("buyer_fee_percent", "The buyer's service fee is between 0 and 50 %.".to_string()));
        }
        if !(0..=MAX_BUYER_FEE_MIN).contains(&self.fees.buyer_fee_min_minor) {
            bad.push(("buyer_fee_min", "The smallest service fee is between 0 and 1,000.00.".to_string()));
        }
        if self.clearance_days > MAX_CLEARANCE_DAYS {
            bad.push(("clearance_days", format!("The clearance period is between 0 and {MAX_CLEARANCE_DAYS} days.")));
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(bad)
        }
    }
}

/// A percentage as typed ("20", "12.5", "7.25 %") in basis points.
pub fn percent_bps(text: &str) -> Option<u32> {
    let t = text.trim().trim_end_matches('%').trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || whole.len() > 3 || frac.len() > 2 || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let frac = format!("{frac:0<2}");
    Some(whole.parse::<u32>().ok()? * 100 + frac.parse::<u32>().ok()?)
}

/// Basis points as a percentage for a form ("20", "12.5").
pub fn bps_text(bps: u32) -> String {
    let (w, f) = (bps / 100, bps % 100);
    match f {
        0 => w.to_string(),
        f if f % 10 == 0 => format!("{w}.{}", f / 10),
        f => format!("{w}.{f:02}"),
    }
}

/// One paid order as the analytics page counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaidOrder {
    pub paid_at: DateTime<Utc>,
    /// What the buyer paid.
    pub paid_minor: i64,
    /// The buyer's service fee in it.
    pub buyer_fee_minor: i64,
    /// The platform fee on the seller's price, as locked into the order.
    pub platform_fee_minor: i64,
}

/// One day of the analytics page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Day {
    pub day: NaiveDate,
    pub orders: i64,
    /// Gross merchandise value: what buyers paid.
    pub gmv_minor: i64,
    /// The platform's fees on those orders (service fee + platform fee).
    pub fees_minor: i64,
}

/// `days` days ending with `last` (UTC), every day present, oldest first.
pub fn by_day(orders: &[PaidOrder], last: NaiveDate, days: u32) -> Vec<Day> {
    let first = last - Duration::days(i64::from(days.max(1)) - 1);
    let mut out: Vec<Day> =
        first.iter_days().take(days.max(1) as usize).map(|day| Day { day, orders: 0, gmv_minor: 0, fees_minor: 0 }).collect();
    for o in orders {
        let d = o.paid_at.date_naive();
        if d < first || d > last {
            continue;
        }
        let slot = &mut out[(d - first).num_days() as usize];
        slot.orders += 1;
        slot.gmv_minor += o.paid_minor;
        slot.fees_minor += o.buyer_fee_minor + o.platform_fee_minor;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn roles_grant_what_the_table_says() {
        assert_eq!(ROLES.check(AdminRole::ALL), Ok(()));
        let m = ROLES.defaults(AdminRole::Moderator);
        assert!(platform_roles::require(&m, P::ModerateGigs).is_ok());
        assert_eq!(platform_roles::require(&m, P::ManageMoney), Err(platform_roles::Denied("manage_money")));
        let f = ROLES.defaults(AdminRole::Finance);
        assert!(platform_roles::require(&f, P::ResolveOrders).is_ok());
        assert!(platform_roles::require(&f, P::ManageUsers).is_err());
        assert!(platform_roles::require(&f, P::ManageSettings).is_err());
        assert!(ROLES.defaults(AdminRole::Owner).iter().eq(AdminPermission::ALL.iter().copied()));
    }

    #[test]
    fn standing_changes_are_checked() {
        use Standing::*;
        let table: &[(Standing, Standing, &str, Result<(), &str>)] = &[
            (Active, Suspended, "Spam in messages", Ok(())),
            (Active, Suspended, "", Err("reason")),
            (Active, Banned, "no", Err("reason")),
            (Suspended, Active, "", Ok(())),
            (Banned, Active, "", Ok(())),
            (Suspended, Banned, "Fraud confirmed", Ok(())),
            (Active, Active, "", Err("standing")),
            (Deleted, Active, "", Err("standing")),
            (Active, Deleted, "Closing it", Err("standing")),
        ];
        for (from, to, reason, want) in table {
            assert_eq!(standing_change(*from, *to, reason).map_err(|e| e.0), *want, "{from} → {to} ({reason:?})");
        }
        assert!(
            Suspended.sign_in_refusal("Spam.").unwrap().contains("suspended")
                && Suspended.sign_in_refusal("Spam.").unwrap().contains("Reason: Spam.")
        );
        assert!(Banned.sign_in_refusal("").unwrap().contains("banned"));
        assert_eq!(Active.sign_in_refusal("x"), None);
    }

    #[test]
    fn settings_have_bounds_naming_their_field() {
        let ok = Settings { fees: FeePolicy::default(), clearance_days: 14 };
        assert_eq!(ok.check(), Ok(()));
        let bad =
            Settings { fees: FeePolicy { platform_fee_bps: 6_000, buyer_fee_bps: 10_001, buyer_fee_min_minor: -1 }, clearance_days: 366 };
        let fields: Vec<&str> = bad.check().unwrap_err().iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["platform_fee_percent", "buyer_fee_percent", "buyer_fee_min", "clearance_days"]);
    }

    #[test]
    fn percentages_read_as_typed() {
        let table = [
            ("20", Some(2000)),
            ("12.5", Some(1250)),
            ("7.25 %", Some(725)),
            ("0", Some(0)),
            ("", None),
            ("1.234", None),
            ("-1", None),
            ("x", None),
            (".5", None),
        ];
        for (text, want) in table {
            assert_eq!(percent_bps(text), want, "{text}");
        }
        for bps in [0, 5, 50, 725, 1250, 2000] {
            assert_eq!(percent_bps(&bps_text(bps)), Some(bps));
        }
    }

    #[test]
    fn days_are_counted_in_utc_with_every_day_present() {
        let at = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap();
        let o = |d, h, paid, fee, pf| PaidOrder { paid_at: at(d, h), paid_minor: paid, buyer_fee_minor: fee, platform_fee_minor: pf };
        let orders = [o(1, 0, 10_500, 500, 2_000), o(1, 23, 5_250, 250, 1_000), o(3, 12, 2_100, 100, 400), o(9, 1, 999, 0, 0)];
        let days = by_day(&orders, NaiveDate::from_ymd_opt(2026, 3, 4).unwrap(), 4);
        let got: Vec<(u32, i64, i64, i64)> =
            days.iter().map(|d| (chrono::Datelike::day(&d.day), d.orders, d.gmv_minor, d.fees_minor)).collect();
        assert_eq!(got, [(1, 2, 15_750, 3_750), (2, 0, 0, 0), (3, 1, 2_100, 500), (4, 0, 0, 0)]);
    }
}
