//! The rules that keep every chat answered: queue priority, which operator
//! fits a chat, operator quality, and what to do with an idle chat. All pure;
//! the jobs and the store apply them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Thresholds admins can change in settings (spec defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OperationsConfig {
    /// Seconds without a reply to a user message before the operator is warned.
    pub idle_warning_secs: i64,
    /// Seconds without a reply before the chat is taken away.
    pub idle_reassign_secs: i64,
    /// Reassignments after which a chat goes to admins instead of the queue.
    pub max_reassignments: i64,
    /// Hours without messages after which a chat is closed.
    pub auto_close_hours: i64,
    /// Minutes a chat may wait in the queue before admins are alerted.
    pub queue_escalation_mins: i64,
    /// Quality score below which a new operator is suspended.
    pub default_quality_threshold: f64,
    pub suspension_days: i64,
    pub default_max_concurrent_chats: i64,
}

impl Default for OperationsConfig {
    fn default() -> Self {
        OperationsConfig {
            idle_warning_secs: 150,
            idle_reassign_secs: 180,
            max_reassignments: 3,
            auto_close_hours: 24,
            queue_escalation_mins: 15,
            default_quality_threshold: 60.0,
            suspension_days: 7,
            default_max_concurrent_chats: 5,
        }
    }
}

impl OperationsConfig {
    /// Checks a settings form; names the offending field.
    pub fn validate(&self) -> Result<(), crate::FieldErrors> {
        let mut e = crate::FieldErrors::new();
        if !(10..=3600).contains(&self.idle_warning_secs) {
            e.add("idle_warning_secs", "Warning must be between 10 s and 1 h");
        }
        if self.idle_reassign_secs <= self.idle_warning_secs || self.idle_reassign_secs > 7200 {
            e.add("idle_reassign_secs", "Reassignment must come after the warning and within 2 h");
        }
        if !(1..=10).contains(&self.max_reassignments) {
            e.add("max_reassignments", "Between 1 and 10");
        }
        if !(1..=720).contains(&self.auto_close_hours) {
            e.add("auto_close_hours", "Between 1 and 720 hours");
        }
        if !(1..=1440).contains(&self.queue_escalation_mins) {
            e.add("queue_escalation_mins", "Between 1 and 1440 minutes");
        }
        if !(0.0..=100.0).contains(&self.default_quality_threshold) {
            e.add("default_quality_threshold", "Between 0 and 100");
        }
        if !(1..=90).contains(&self.suspension_days) {
            e.add("suspension_days", "Between 1 and 90 days");
        }
        if !(1..=50).contains(&self.default_max_concurrent_chats) {
            e.add("default_max_concurrent_chats", "Between 1 and 50");
        }
        e.into_result()
    }
}

text_enum! {
    /// How urgently a waiting chat needs an operator.
    pub enum QueuePriority { Urgent => "urgent", High => "high", Normal => "normal", Low => "low" }
}

impl QueuePriority {
    /// Sort key: higher is served first.
    pub fn score(self) -> i64 {
        match self {
            QueuePriority::Urgent => 400,
            QueuePriority::High => 300,
            QueuePriority::Normal => 200,
            QueuePriority::Low => 100,
        }
    }
}

/// What a waiting chat's priority depends on.
#[derive(Debug, Clone, Copy)]
pub struct PriorityInput {
    /// Credits the user has spent on messages, ever.
    pub lifetime_credits_spent: i64,
    pub waiting: Duration,
    /// Taken from an operator before (always served sooner).
    pub reassigned: bool,
}

/// Spec "Queue Priority Logic": urgent for big spenders (> 10,000 credits)
/// or after 5 min; high for > 1,000 credits, after 3 min, or when
/// reassigned; normal for paying users or after 1 min; low for free-tier
/// users in new conversations.
pub fn priority(input: &PriorityInput) -> QueuePriority {
    let mins = input.waiting.num_seconds();
    if input.lifetime_credits_spent > 10_000 || mins > 5 * 60 {
        QueuePriority::Urgent
    } else if input.lifetime_credits_spent > 1_000 || mins > 3 * 60 || input.reassigned {
        QueuePriority::High
    } else if input.lifetime_credits_spent > 0 || mins > 60 {
        QueuePriority::Normal
    } else {
        QueuePriority::Low
    }
}

/// An operator as the matcher sees them.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub available: bool,
    pub suspended: bool,
    pub active: bool,
    pub current_chats: i64,
    pub max_chats: i64,
    pub quality_score: f64,
    pub specializations: &'a [String],
    pub languages: &'a [String],
    /// Has answered this user in another chat.
    pub knows_user: bool,
}

/// What a chat needs.
#[derive(Debug, Clone)]
pub struct ChatNeeds<'a> {
    /// The profile's response style (flirty, romantic, …), if set.
    pub style: Option<&'a str>,
    pub language: &'a str,
    /// Whether this operator is one the chat was taken from.
    pub excluded: bool,
}

/// How well an operator fits a chat, or `None` when they may not take it
/// (offline, suspended, full, or excluded). Higher is better; the factors
/// are specialisation 30, language 10, quality up to 30, free capacity up
/// to 20, and 15 for having talked with this user before.
pub fn match_score(op: &Candidate<'_>, chat: &ChatNeeds<'_>) -> Option<i64> {
    if !op.available || op.suspended || !op.active || chat.excluded || op.current_chats >= op.max_chats {
        return None;
    }
    let mut score = 0;
    if chat.style.is_some_and(|s| op.specializations.iter().any(|x| x.eq_ignore_ascii_case(s))) {
        score += 30;
    }
    if op.languages.iter().any(|l| l.eq_ignore_ascii_case(chat.language)) {
        score += 10;
    }
    score += (op.quality_score.clamp(0.0, 100.0) * 0.3).round() as i64;
    score += free_capacity_points(op.current_chats, op.max_chats);
    if op.knows_user {
        score += 15;
    }
    Some(score)
}

/// Up to 20 points for the share of the operator's limit still free. The
/// counts come from the database, but a corrupt or negative count must not
/// push the score past its bound or overflow.
fn free_capacity_points(current: i64, max: i64) -> i64 {
    let max = i128::from(max.max(1));
    let free = (max - i128::from(current.max(0))).clamp(0, max);
    (20 * free / max) as i64
}

/// What the quality score is computed from.
#[derive(Debug, Clone, Copy, Default)]
pub struct QualityInput {
    pub average_response_secs: Option<f64>,
    /// Mean user rating 1–5, when there are ratings.
    pub average_rating: Option<f64>,
    pub idle_incidents: i64,
    pub complaints: i64,
}

/// Operator quality, 0–100. Starts at 100; replies slower than a minute on
/// average cost up to 30 points (at 5 min); each idle incident costs 5 (at
/// most 40) and each complaint 10 (at most 40); when users have rated, the
/// result is blended 60/40 with the rating scaled to 100.
/// Averages that are not numbers (NaN from an empty aggregate) count as
/// absent, and negative counts as zero, so the score stays within 0–100.
pub fn quality_score(q: &QualityInput) -> f64 {
    let slow = q.average_response_secs.filter(|s| !s.is_nan()).map(|s| ((s - 60.0) / 240.0).clamp(0.0, 1.0) * 30.0).unwrap_or(0.0);
    let idle = (q.idle_incidents.max(0) as f64 * 5.0).min(40.0);
    let complaints = (q.complaints.max(0) as f64 * 10.0).min(40.0);
    let base = (100.0 - slow - idle - complaints).max(0.0);
    let blended = match q.average_rating.filter(|r| !r.is_nan()) {
        Some(r) => base * 0.6 + (r.clamp(1.0, 5.0) / 5.0 * 100.0) * 0.4,
        None => base,
    };
    ((blended * 100.0).round() / 100.0).clamp(0.0, 100.0)
}

/// Whether a quality score means suspension.
pub fn should_suspend(score: f64, threshold: f64, already_suspended: bool) -> bool {
    !already_suspended && score < threshold
}

/// What the idle check does with an assigned chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleAction {
    None,
    /// Warn the operator; `seconds_left` until the chat is taken away.
    Warn {
        seconds_left: i64,
    },
    Reassign,
}

/// An assigned chat's reply state.
#[derive(Debug, Clone, Copy)]
pub struct ReplyState {
    pub assigned_at: DateTime<Utc>,
    pub last_user_message_at: Option<DateTime<Utc>>,
    pub last_profile_message_at: Option<DateTime<Utc>>,
}

/// Seconds the user has been waiting for a reply, or `None` when the last
/// word is the profile's. The clock starts at the later of the unanswered
/// user message and the assignment (a fresh operator gets the full time).
pub fn unanswered_secs(s: &ReplyState, now: DateTime<Utc>) -> Option<i64> {
    let user_at = s.last_user_message_at?;
    if s.last_profile_message_at.is_some_and(|p| p >= user_at) {
        return None;
    }
    Some((now - user_at.max(s.assigned_at)).num_seconds().max(0))
}

/// What the idle check does with an assigned chat, by how long its user has
/// waited (see `unanswered_secs`).
pub fn idle_action(s: &ReplyState, now: DateTime<Utc>, cfg: &OperationsConfig) -> IdleAction {
    let Some(waiting) = unanswered_secs(s, now) else { return IdleAction::None };
    if waiting >= cfg.idle_reassign_secs {
        IdleAction::Reassign
    } else if waiting >= cfg.idle_warning_secs {
        IdleAction::Warn { seconds_left: cfg.idle_reassign_secs - waiting }
    } else {
        IdleAction::None
    }
}

text_enum! {
    /// Where an assigned chat's reply clock stands, for the console and the
    /// live grid: the same thresholds as the idle check.
    pub enum ReplyClock { Answered => "answered", Running => "running", Warning => "warning", Overdue => "overdue" }
}

/// The reply clock for `waiting` seconds without a reply (see
/// `unanswered_secs`; `None`: the profile spoke last).
pub fn reply_clock(waiting: Option<i64>, cfg: &OperationsConfig) -> ReplyClock {
    match waiting {
        None => ReplyClock::Answered,
        Some(s) if s >= cfg.idle_reassign_secs => ReplyClock::Overdue,
        Some(s) if s >= cfg.idle_warning_secs => ReplyClock::Warning,
        Some(_) => ReplyClock::Running,
    }
}

/// Seconds as a clock reads them: `2:30`, `12:05`, `1:02:03`.
pub fn clock_text(secs: i64) -> String {
    let s = secs.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// An operator's average response time from the sum and count of their
/// measured replies, rounded to the nearest millisecond; `None` without
/// replies. Every page that shows an operator's response time uses this.
pub fn average_response_ms(total_ms: i64, responses: i64) -> Option<i64> {
    (responses > 0).then(|| (total_ms.max(0) + responses / 2) / responses)
}

/// A response time as staff read it: `—`, `42 s`, `2 min 5 s`.
pub fn response_time_text(ms: Option<i64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) => {
            let s = (ms.max(0) + 500) / 1000;
            if s < 60 {
                format!("{s} s")
            } else if s % 60 == 0 {
                format!("{} min", s / 60)
            } else {
                format!("{} min {} s", s / 60, s % 60)
            }
        }
    }
}

/// After a chat is taken from its operator: back to the queue, or to admins
/// once it has been reassigned `max_reassignments` times.
pub fn escalate_after(reassignments: i64, cfg: &OperationsConfig) -> bool {
    reassignments >= cfg.max_reassignments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(spent: i64, waiting_secs: i64, reassigned: bool) -> QueuePriority {
        priority(&PriorityInput { lifetime_credits_spent: spent, waiting: Duration::seconds(waiting_secs), reassigned })
    }

    #[test]
    fn the_reply_clock_follows_the_idle_thresholds() {
        let cfg = OperationsConfig::default();
        let cases = [
            (None, ReplyClock::Answered),
            (Some(0), ReplyClock::Running),
            (Some(149), ReplyClock::Running),
            (Some(150), ReplyClock::Warning),
            (Some(179), ReplyClock::Warning),
            (Some(180), ReplyClock::Overdue),
            (Some(4000), ReplyClock::Overdue),
        ];
        for (waiting, want) in cases {
            assert_eq!(reply_clock(waiting, &cfg), want, "{waiting:?}");
        }
        for (secs, want) in [(0, "0:00"), (-5, "0:00"), (42, "0:42"), (150, "2:30"), (180, "3:00"), (725, "12:05"), (3723, "1:02:03")] {
            assert_eq!(clock_text(secs), want);
        }
    }

    #[test]
    fn one_response_time_rule() {
        for (total, n, want) in
            [(0, 0, None), (5_000, 0, None), (3_000, 2, Some(1_500)), (1_000, 3, Some(333)), (2_000, 3, Some(667)), (-5, 1, Some(0))]
        {
            assert_eq!(average_response_ms(total, n), want, "{total}/{n}");
        }
        for (ms, want) in [
            (None, "—"),
            (Some(0), "0 s"),
            (Some(42_400), "42 s"),
            (Some(59_600), "1 min"),
            (Some(125_000), "2 min 5 s"),
            (Some(180_000), "3 min"),
        ] {
            assert_eq!(response_time_text(ms), want, "{ms:?}");
        }
    }

    #[test]
    fn priority_follows_spend_wait_and_reassignment() {
        use QueuePriority::*;
        let cases = [
            (0, 0, false, Low),
            (0, 60, false, Low),
            (0, 61, false, Normal),
            (1, 0, false, Normal),
            (1_000, 0, false, Normal),
            (1_001, 0, false, High),
            (0, 181, false, High),
            (0, 0, true, High),
            (10_000, 0, false, High),
            (10_001, 0, false, Urgent),
            (0, 301, false, Urgent),
            (0, 300, true, High),
        ];
        for (spent, wait, re, want) in cases {
            assert_eq!(p(spent, wait, re), want, "spent {spent}, waited {wait}s, reassigned {re}");
        }
        assert!(Urgent.score() > High.score() && High.score() > Normal.score() && Normal.score() > Low.score());
    }

    fn op<'a>(specs: &'a [String], langs: &'a [String]) -> Candidate<'a> {
        Candidate {
            available: true,
            suspended: false,
            active: true,
            current_chats: 0,
            max_chats: 5,
            quality_score: 100.0,
            specializations: specs,
            languages: langs,
            knows_user: false,
        }
    }

    #[test]
    fn matching_prefers_specialists_with_room_and_history() {
        let flirty = vec!["flirty".to_string()];
        let friendly = vec!["friendly".to_string()];
        let en = vec!["en".to_string()];
        let needs = ChatNeeds { style: Some("flirty"), language: "en", excluded: false };
        let specialist = match_score(&op(&flirty, &en), &needs).unwrap();
        let generalist = match_score(&op(&friendly, &en), &needs).unwrap();
        assert_eq!(specialist - generalist, 30);
        let busy = Candidate { current_chats: 4, ..op(&flirty, &en) };
        assert!(match_score(&busy, &needs).unwrap() < specialist);
        let known = Candidate { knows_user: true, ..op(&friendly, &en) };
        assert_eq!(match_score(&known, &needs).unwrap() - generalist, 15);
        let weak = Candidate { quality_score: 50.0, ..op(&flirty, &en) };
        assert_eq!(specialist - match_score(&weak, &needs).unwrap(), 15);
    }

    #[test]
    fn matching_refuses_operators_who_may_not_take_the_chat() {
        let s = vec!["flirty".to_string()];
        let en = vec!["en".to_string()];
        let needs = ChatNeeds { style: None, language: "en", excluded: false };
        assert!(match_score(&Candidate { available: false, ..op(&s, &en) }, &needs).is_none());
        assert!(match_score(&Candidate { suspended: true, ..op(&s, &en) }, &needs).is_none());
        assert!(match_score(&Candidate { active: false, ..op(&s, &en) }, &needs).is_none());
        assert!(match_score(&Candidate { current_chats: 5, ..op(&s, &en) }, &needs).is_none(), "at the limit");
        assert!(match_score(&op(&s, &en), &ChatNeeds { excluded: true, ..needs.clone() }).is_none());
    }

    #[test]
    fn quality_score_table() {
        let q = |resp: Option<f64>, rating: Option<f64>, idle: i64, complaints: i64| {
            quality_score(&QualityInput { average_response_secs: resp, average_rating: rating, idle_incidents: idle, complaints })
        };
        assert_eq!(q(None, None, 0, 0), 100.0);
        assert_eq!(q(Some(30.0), None, 0, 0), 100.0);
        assert_eq!(q(Some(180.0), None, 0, 0), 85.0);
        assert_eq!(q(Some(600.0), None, 0, 0), 70.0);
        assert_eq!(q(None, None, 3, 0), 85.0);
        assert_eq!(q(None, None, 20, 0), 60.0, "idle penalty is capped");
        assert_eq!(q(None, None, 0, 2), 80.0);
        assert_eq!(q(None, Some(5.0), 0, 0), 100.0);
        assert_eq!(q(None, Some(2.5), 0, 0), 80.0);
        assert_eq!(q(Some(600.0), Some(1.0), 8, 4), 8.0);
        assert!(should_suspend(59.99, 60.0, false));
        assert!(!should_suspend(60.0, 60.0, false));
        assert!(!should_suspend(10.0, 60.0, true));
    }

    #[test]
    fn idle_chats_are_warned_then_reassigned_then_escalated() {
        let cfg = OperationsConfig::default();
        let t0 = DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z").unwrap().with_timezone(&Utc);
        let s = ReplyState { assigned_at: t0, last_user_message_at: Some(t0), last_profile_message_at: None };
        assert_eq!(idle_action(&s, t0 + Duration::seconds(149), &cfg), IdleAction::None);
        assert_eq!(idle_action(&s, t0 + Duration::seconds(150), &cfg), IdleAction::Warn { seconds_left: 30 });
        assert_eq!(idle_action(&s, t0 + Duration::seconds(180), &cfg), IdleAction::Reassign);
        let answered = ReplyState { last_profile_message_at: Some(t0 + Duration::seconds(5)), ..s };
        assert_eq!(idle_action(&answered, t0 + Duration::seconds(500), &cfg), IdleAction::None);
        let fresh = ReplyState { assigned_at: t0 + Duration::seconds(170), ..s };
        assert_eq!(idle_action(&fresh, t0 + Duration::seconds(200), &cfg), IdleAction::None, "a new operator gets the full time");
        let quiet = ReplyState { last_user_message_at: None, ..s };
        assert_eq!(idle_action(&quiet, t0 + Duration::hours(5), &cfg), IdleAction::None);
        assert!(!escalate_after(2, &cfg));
        assert!(escalate_after(3, &cfg));
    }

    #[test]
    fn settings_are_validated() {
        assert!(OperationsConfig::default().validate().is_ok());
        let bad = OperationsConfig { idle_reassign_secs: 100, ..Default::default() };
        assert!(bad.validate().unwrap_err().for_field("idle_reassign_secs").is_some());
    }
}
