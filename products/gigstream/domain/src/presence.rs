//! Online status in messaging: a person is online while one of their
//! realtime sockets is open (each refreshes its row on every ping, so a
//! socket of a node that died stops counting after [`STALE_AFTER_SECS`]);
//! otherwise they were last seen when their last socket closed.

use chrono::{DateTime, Utc};

platform_kernel::id_type!(
    /// One open realtime socket.
    SocketId,
);

/// A socket not refreshed for this long is taken as gone (clients ping
/// every 25 s).
pub const STALE_AFTER_SECS: i64 = 75;

/// A person whose last socket closed is announced offline only if no new
/// socket opened this long after (going from one page to the next closes
/// one socket and opens another a moment later).
pub const OFFLINE_GRACE_MS: u64 = 2_000;

/// Someone's status as the other party sees it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Presence {
    pub online: bool,
    /// When their last socket closed (or went stale); `None`: never seen.
    pub last_seen: Option<DateTime<Utc>>,
}

impl Presence {
    /// The words shown beside their name: "Online", "Last seen 5 min ago",
    /// "Last seen 3 h ago", "Last seen yesterday", "Last seen 4 Mar",
    /// "Offline" (never seen).
    pub fn label(&self, now: DateTime<Utc>) -> String {
        if self.online {
            return "Online".into();
        }
        let Some(at) = self.last_seen else { return "Offline".into() };
        let ago = (now - at).num_seconds().max(0);
        match ago {
            0..60 => "Last seen just now".into(),
            60..3600 => format!("Last seen {} min ago", ago / 60),
            3600..86_400 => format!("Last seen {} h ago", ago / 3600),
            86_400..172_800 => "Last seen yesterday".into(),
            _ => format!("Last seen {}", at.format("%-d %b")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn labels() {
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
        let seen = |d: Duration| Presence { online: false, last_seen: Some(now - d) };
        let table = [
            (Presence { online: true, last_seen: Some(now - Duration::days(9)) }, "Online"),
            (Presence { online: false, last_seen: None }, "Offline"),
            (seen(Duration::seconds(59)), "Last seen just now"),
            (seen(Duration::seconds(60)), "Last seen 1 min ago"),
            (seen(Duration::minutes(59)), "Last seen 59 min ago"),
            (seen(Duration::hours(3)), "Last seen 3 h ago"),
            (seen(Duration::hours(30)), "Last seen yesterday"),
            (seen(Duration::days(6)), "Last seen 4 Mar"),
            // A clock a little ahead of ours is "just now", not negative.
            (seen(Duration::seconds(-5)), "Last seen just now"),
        ];
        for (p, want) in table {
            assert_eq!(p.label(now), want, "{p:?}");
        }
    }
}
