//! Notifications: the events people are told about, the channels they are
//! told on, and the rule that decides which channels one event goes out on
//! for one person (their preferences over the defaults).

platform_kernel::text_enum! {
    /// Something that happened that someone is told about.
    pub enum Event {
        /// A buyer's order was paid: the seller has work to do.
        OrderPlaced => "order_placed",
        /// The buyer answered the gig's requirement questions.
        RequirementsSubmitted => "requirements_submitted",
        /// The seller delivered.
        Delivered => "delivered",
        /// The buyer asked for a revision.
        RevisionRequested => "revision_requested",
        /// The buyer accepted the work; the money is released.
        Completed => "completed",
        /// The buyer's payment was received and is held in escrow.
        PaymentReceived => "payment_received",
        /// A withdrawal reached the seller's account.
        WithdrawalPaid => "withdrawal_paid",
        /// A new message in one of one's conversations.
        NewMessage => "new_message",
        /// Someone reviewed one.
        ReviewReceived => "review_received",
        /// Messages in a conversation have waited unread for
        /// [`UNREAD_REMINDER_MINUTES`]: one email per conversation.
        UnreadMessages => "unread_messages",
    }
}

platform_kernel::text_enum! {
    /// Where a notification is shown or sent.
    pub enum Channel {
        /// The bell and the notifications page.
        InApp => "in_app",
        Email => "email",
        /// Web push to the browsers one subscribed.
        Push => "push",
    }
}

impl Event {
    /// What the preferences page calls it.
    pub fn label(self) -> &'static str {
        match self {
            Event::OrderPlaced => "New order",
            Event::RequirementsSubmitted => "Requirements submitted",
            Event::Delivered => "Order delivered",
            Event::RevisionRequested => "Revision requested",
            Event::Completed => "Order completed",
            Event::PaymentReceived => "Payment received",
            Event::WithdrawalPaid => "Withdrawal paid",
            Event::NewMessage => "New message",
            Event::ReviewReceived => "New review",
            Event::UnreadMessages => "Messages unread for 15 minutes",
        }
    }

    /// On unless the person turned it off — except an email per message,
    /// which is off unless turned on (the unread reminder covers it), and
    /// the unread reminder, which is an email unless chosen otherwise.
    pub fn default_on(self, channel: Channel) -> bool {
        match self {
            Event::NewMessage => channel != Channel::Email,
            Event::UnreadMessages => channel == Channel::Email,
            _ => true,
        }
    }
}

impl Channel {
    pub fn label(self) -> &'static str {
        match self {
            Channel::InApp => "On the site",
            Channel::Email => "Email",
            Channel::Push => "Browser push",
        }
    }
}

/// How long a message waits unread before its recipient is emailed.
pub const UNREAD_REMINDER_MINUTES: i64 = 15;

/// One stored choice: `enabled` for `event` on `channel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Preference {
    pub event: Event,
    pub channel: Channel,
    pub enabled: bool,
}

/// Whether `event` goes out on `channel` under `choices` (the person's
/// stored preferences; the default where they chose nothing).
pub fn allowed(choices: &[Preference], event: Event, channel: Channel) -> bool {
    choices.iter().rev().find(|p| p.event == event && p.channel == channel).map(|p| p.enabled).unwrap_or_else(|| event.default_on(channel))
}

/// Every event × channel with its effective setting, in display order.
pub fn effective(choices: &[Preference]) -> Vec<Preference> {
    Event::ALL
        .iter()
        .flat_map(|&event| Channel::ALL.iter().map(move |&channel| (event, channel)))
        .map(|(event, channel)| Preference { event, channel, enabled: allowed(choices, event, channel) })
        .collect()
}

/// How long to wait before retrying a failed delivery (attempt 1, 2, …);
/// `None` once it is given up on.
pub fn retry_after(attempt: u32) -> Option<chrono::Duration> {
    const BACKOFF_SECS: [i64; 5] = [30, 120, 600, 3600, 6 * 3600];
    BACKOFF_SECS.get(attempt.saturating_sub(1) as usize).map(|s| chrono::Duration::seconds(*s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_override_defaults() {
        let p = |event, channel, enabled| Preference { event, channel, enabled };
        let choices = [p(Event::Delivered, Channel::Email, false), p(Event::NewMessage, Channel::Email, true)];
        let table = [
            (Event::Delivered, Channel::Email, false),
            (Event::Delivered, Channel::Push, true),
            (Event::Delivered, Channel::InApp, true),
            (Event::NewMessage, Channel::Email, true),
            (Event::OrderPlaced, Channel::Email, true),
        ];
        for (event, channel, want) in table {
            assert_eq!(allowed(&choices, event, channel), want, "{event} on {channel}");
        }
        assert!(!allowed(&[], Event::NewMessage, Channel::Email));
        assert!(allowed(&[], Event::NewMessage, Channel::Push));
        assert!(allowed(&[], Event::UnreadMessages, Channel::Email));
        assert!(!allowed(&[], Event::UnreadMessages, Channel::InApp));
        assert!(!allowed(&[], Event::UnreadMessages, Channel::Push));
        // The latest choice wins.
        let again = [p(Event::Completed, Channel::Push, false), p(Event::Completed, Channel::Push, true)];
        assert!(allowed(&again, Event::Completed, Channel::Push));
        let all = effective(&choices);
        assert_eq!(all.len(), Event::ALL.len() * Channel::ALL.len());
        // Delivered by email (chosen off) and the reminder in the bell and by push (off by default).
        assert_eq!(all.iter().filter(|x| !x.enabled).count(), 3);
    }

    #[test]
    fn retries_back_off_then_stop() {
        let table = [(1, Some(30)), (2, Some(120)), (5, Some(21_600)), (6, None)];
        for (attempt, secs) in table {
            assert_eq!(retry_after(attempt).map(|d| d.num_seconds()), secs, "attempt {attempt}");
        }
    }
}
