//! Telling people what happened: [`send`] stores a notification (the bell,
//! live over the user's realtime channel) and queues its email and push
//! deliveries by the person's preferences, in one transaction; the request
//! returns at once. The delivery worker ([`spawn_worker`], woken by each
//! new delivery, and the `notifications` job) sends them through
//! platform-mail and platform-push with retries. Emails have an HTML and a
//! plain-text part (`templates/email/`) and a signed unsubscribe link that
//! needs no sign-in ([`unsubscribe_token`]).

use crate::{AppState, WebConfig};
use askama::Template;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::Utc;
use gigstream_domain::ids::AccountId;
use gigstream_domain::notifications::{retry_after, Channel, Event};
use gigstream_store::notifications::{self as store, Due, New};
use gigstream_store::StoreResult;
use hmac::{Hmac, Mac};
use platform_mail::{Email, Mailer};
use platform_push::{Message, Outcome, PushSender, Subscription, VapidKeys};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Mail, push and link settings.
#[derive(Clone)]
pub struct NotifyConfig {
    /// The SMTP relay of all the app's mail (`AppState::new` builds the one
    /// client); none: mail is kept in memory and notification emails are
    /// skipped (logged at start).
    pub smtp: Option<platform_mail::SmtpConfig>,
    pub mail_from: String,
    /// This site's public origin, for links in emails and pushes.
    pub site_url: String,
    pub vapid: VapidKeys,
    /// The contact push services may write to (`mailto:…`).
    pub push_contact: String,
    /// Signs unsubscribe links.
    pub link_secret: Vec<u8>,
}

impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("smtp", &self.smtp.is_some())
            .field("mail_from", &self.mail_from)
            .field("site_url", &self.site_url)
            .field("vapid", &self.vapid)
            .finish_non_exhaustive()
    }
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            smtp: None,
            mail_from: "GigStream <no-reply@gigstream.localhost>".into(),
            site_url: "http://127.0.0.1:8082".into(),
            vapid: VapidKeys::generate(),
            push_contact: "mailto:no-reply@gigstream.localhost".into(),
            // 32 random bytes (a fresh private key's); links break on restart
            // unless configured.
            link_secret: VapidKeys::generate().private_base64().into_bytes(),
        }
    }
}

/// The senders and the worker's wake-up.
pub struct Notifier {
    pub mailer: Option<Arc<dyn Mailer>>,
    pub push: Arc<dyn PushSender>,
    wake: Notify,
}

impl Notifier {
    /// The notifier over `mailer`, the app's SMTP client (none: emails are
    /// skipped), and a web-push client with the configured keys.
    pub fn new(config: &NotifyConfig, mailer: Option<Arc<dyn Mailer>>) -> Notifier {
        let push = Arc::new(platform_push::WebPushClient::new(config.vapid.clone(), config.push_contact.clone()));
        Notifier { mailer, push, wake: Notify::new() }
    }

    /// Same senders of one's own (tests).
    pub fn with(mailer: Option<Arc<dyn Mailer>>, push: Arc<dyn PushSender>) -> Notifier {
        Notifier { mailer, push, wake: Notify::new() }
    }
}

/// Tells `account` about `event`. Never fails the caller: the change it
/// reports is already committed, so a failure here is logged.
pub async fn send(state: &AppState, account: AccountId, event: Event, title: &str, body: &str, link: &str) {
    let n = New { account, event, title, body, link };
    match store::create(&state.db, &n, Utc::now()).await {
        Ok(created) => {
            if created.notification.shown {
                state.realtime.written();
            }
            if !created.queued.is_empty() {
                state.notifier.wake.notify_one();
            }
        }
        Err(e) => tracing::warn!(error = %e, %event, "notification not stored"),
    }
}

/// Tells the order's party who should hear about `event` (the seller for
/// a new order, requirements, a revision and completion; the buyer for a
/// delivery and their payment).
pub async fn about_order(state: &AppState, o: &gigstream_store::orders::Order, event: Event) {
    let price = gigstream_domain::Money::new(o.total_minor, o.currency);
    let gig = &o.gig_title;
    let (to, title, body) = match event {
        Event::OrderPlaced => (o.seller_id, "New order".to_string(), format!("A buyer ordered the {} package of “{gig}”.", o.package_name)),
        Event::RequirementsSubmitted => {
            (o.seller_id, "Requirements submitted".into(), format!("The buyer answered the requirements of “{gig}”."))
        }
        Event::Delivered => (o.buyer_id, "Your order was delivered".into(), format!("The seller delivered “{gig}”.")),
        Event::RevisionRequested => (o.seller_id, "Revision requested".into(), format!("The buyer asked for a revision of “{gig}”.")),
        Event::Completed => (o.seller_id, "Order completed".into(), format!("The buyer accepted “{gig}”; your earnings were released.")),
        Event::PaymentReceived => {
            (o.buyer_id, "Payment received".into(), format!("We received {price} for “{gig}”; it is held in escrow."))
        }
        _ => return,
    };
    send(state, to, event, &title, &body, &format!("/orders/{}", o.id)).await;
}

/// The auto-complete job: completes and releases the orders delivered
/// [`gigstream_domain::order::AUTO_COMPLETE_AFTER_DAYS`] days ago (each
/// committed on its own), then tells both parties, as when the buyer
/// accepts. Returns how many were completed.
pub async fn auto_complete(state: &AppState, now: chrono::DateTime<Utc>) -> StoreResult<usize> {
    let done = gigstream_store::orders::auto_completed(&state.db, now).await?;
    let days = gigstream_domain::order::AUTO_COMPLETE_AFTER_DAYS;
    for o in &done {
        let gig = &o.gig_title;
        let link = format!("/orders/{}", o.id);
        let to_seller = format!("“{gig}” was completed automatically {days} days after delivery; your earnings were released.");
        send(state, o.seller_id, Event::Completed, "Order completed", &to_seller, &link).await;
        let to_buyer = format!("“{gig}” was completed automatically {days} days after delivery.");
        send(state, o.buyer_id, Event::Completed, "Order completed", &to_buyer, &link).await;
    }
    Ok(done.len())
}

/// The unread-message job: one reminder per conversation whose messages
/// waited unread for 15 minutes (see `gigstream_store::reminders`), its
/// email sent by the delivery worker, woken here.
pub async fn remind_unread(state: &AppState, now: chrono::DateTime<Utc>) -> StoreResult<gigstream_store::reminders::Reminded> {
    let done = gigstream_store::reminders::send_due(&state.db, now, 500).await?;
    if done.reminded > 0 {
        state.realtime.written();
        state.notifier.wake.notify_one();
    }
    Ok(done)
}

/// Runs the delivery job on this node: at once when woken, else every 5 s.
pub fn spawn_worker(state: AppState) {
    tokio::spawn(async move {
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(5), state.notifier.wake.notified()).await;
            if let Err(e) = deliver_due(&state).await {
                tracing::warn!(error = %e, "notification deliveries will be retried");
            }
        }
    });
}

/// What one run of the delivery job did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Delivered {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// Sends every due delivery (claimed, so nodes do not send twice).
pub async fn deliver_due(state: &AppState) -> StoreResult<Delivered> {
    deliver_due_at(state, Utc::now()).await
}

/// Sends every delivery due at `due` (a job that ran with a later clock
/// than the wall clock, in tests, sends what it wrote).
pub async fn deliver_due_at(state: &AppState, due: chrono::DateTime<Utc>) -> StoreResult<Delivered> {
    let mut done = Delivered::default();
    loop {
        let batch = store::claim_due(&state.db, due, 50).await?;
        if batch.is_empty() {
            return Ok(done);
        }
        for due in batch {
            let result = match due.channel {
                Channel::Email => email(state, &due).await,
                _ => push(state, &due).await,
            };
            let now = Utc::now();
            match result {
                Ok(true) => {
                    store::delivered(&state.db, due.id, now).await?;
                    done.sent += 1;
                }
                Ok(false) => {
                    store::skipped(&state.db, due.id, "nothing to send it with").await?;
                    done.skipped += 1;
                }
                Err((why, transient)) => {
                    let attempt = u32::try_from(due.attempts).unwrap_or(0) + 1;
                    let retry = if transient { retry_after(attempt).map(|d| now + d) } else { None };
                    tracing::warn!(delivery = due.id, channel = %due.channel, error = %why, retry = retry.is_some(), "notification not delivered");
                    store::failed(&state.db, due.id, &why, retry).await?;
                    if retry.is_some() {
                        done.retrying += 1;
                    } else {
                        done.failed += 1;
                    }
                }
            }
        }
    }
}

type SendResult = Result<bool, (String, bool)>;

async fn email(state: &AppState, due: &Due) -> SendResult {
    let Some(mailer) = &state.notifier.mailer else { return Ok(false) };
    let mail = render_email(&state.config, due).map_err(|e| (e, false))?;
    mailer.send(&mail).await.map(|()| true).map_err(|e| {
        let transient = matches!(e, platform_mail::MailError::Transport(_));
        (e.to_string(), transient)
    })
}

async fn push(state: &AppState, due: &Due) -> SendResult {
    let subs = store::subscriptions(&state.db, due.account_id).await.map_err(|e| (e.to_string(), true))?;
    if subs.is_empty() {
        return Ok(false);
    }
    let site = &state.config.notify.site_url;
    let payload = serde_json::json!({
        "title": due.title, "body": due.body, "url": format!("{site}{}", due.link), "tag": format!("n{}", due.seq),
    });
    let mut msg = Message::new(payload.to_string().into_bytes());
    msg.topic = Some(due.event.as_str().replace('_', "-"));
    let mut sent = false;
    let mut last_error = None;
    for s in subs {
        let sub = Subscription { endpoint: s.endpoint.clone(), p256dh: s.p256dh, auth: s.auth };
        match state.notifier.push.send(&sub, &msg).await {
            Ok(Outcome::Delivered) => sent = true,
            Ok(Outcome::Gone) => store::forget(&state.db, &s.endpoint).await.map_err(|e| (e.to_string(), true))?,
            Err(e) => last_error = Some((e.to_string(), e.is_transient())),
        }
    }
    match (sent, last_error) {
        (true, _) => Ok(true),
        (false, Some(e)) => Err(e),
        (false, None) => Ok(false),
    }
}

/// The per-event words of an email, shared by both parts.
pub struct EmailView<'a> {
    pub event: Event,
    pub name: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub link: String,
    pub unsubscribe: String,
    pub preferences: String,
}

#[derive(Template)]
#[template(path = "email/notification.html")]
struct HtmlEmail<'a> {
    v: &'a EmailView<'a>,
}

#[derive(Template)]
#[template(path = "email/notification.txt")]
struct TextEmail<'a> {
    v: &'a EmailView<'a>,
}

/// The email for one delivery: both parts, with the unsubscribe link.
pub fn render_email(config: &WebConfig, due: &Due) -> Result<Email, String> {
    let site = &config.notify.site_url;
    let token = unsubscribe_token(&config.notify.link_secret, due.account_id, Some(due.event));
    let view = EmailView {
        event: due.event,
        name: &due.display_name,
        title: &due.title,
        body: &due.body,
        link: format!("{site}{}", due.link),
        unsubscribe: format!("{site}/unsubscribe?t={token}"),
        preferences: format!("{site}/settings/notifications"),
    };
    let html = HtmlEmail { v: &view }.render().map_err(|e| e.to_string())?;
    let text = TextEmail { v: &view }.render().map_err(|e| e.to_string())?;
    Ok(Email::new(config.notify.mail_from.clone(), due.email.clone(), format!("{} · GigStream", due.title)).text(text).html(html))
}

fn mac(secret: &[u8], message: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    m.update(message.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// A link token that turns off emails about `event` (all events when
/// `None`) for `account`: the claim and its HMAC, base64url.
pub fn unsubscribe_token(secret: &[u8], account: AccountId, event: Option<Event>) -> String {
    let claim = format!("{account}:{}", event.map(Event::as_str).unwrap_or("all"));
    format!("{}.{}", URL_SAFE_NO_PAD.encode(&claim), URL_SAFE_NO_PAD.encode(mac(secret, &claim)))
}

/// The account and event a token names, if its signature holds.
pub fn check_unsubscribe(secret: &[u8], token: &str) -> Option<(AccountId, Option<Event>)> {
    let (claim, sig) = token.trim().split_once('.')?;
    let claim = String::from_utf8(URL_SAFE_NO_PAD.decode(claim).ok()?).ok()?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    m.update(claim.as_bytes());
    m.verify_slice(&sig).ok()?;
    let (account, event) = claim.split_once(':')?;
    let event = if event == "all" { None } else { Some(event.parse().ok()?) };
    Some((account.parse().ok()?, event))
}

/// The bell, live: every node tails the `notifications` table and sends
/// each shown one to its person's own channel as
/// `{"t":"notification","data":{seq,event,title,body,link}}` (no top-level
/// seq: it is not the conversation sequence clients track).
pub mod live {
    use crate::realtime::{PushKind, Topic};
    use axum::extract::ws::Utf8Bytes;
    use futures_util::future::BoxFuture;
    use gigstream_store::notifications::{outbox, Notification};
    use gigstream_store::{Db, StoreResult};
    use std::sync::Arc;

    pub struct Notifications;

    impl platform_realtime::Outbox<Topic, PushKind> for Notifications {
        type Row = Notification;
        fn seq(row: &Notification) -> i64 {
            row.seq
        }
        fn head<'a>(&'a self, db: &'a Db) -> BoxFuture<'a, StoreResult<i64>> {
            Box::pin(outbox::head(db))
        }
        fn after<'a>(&'a self, db: &'a Db, after: i64, limit: i64) -> BoxFuture<'a, StoreResult<Vec<Notification>>> {
            Box::pin(outbox::after(db, after, limit))
        }
        fn by_seqs<'a>(&'a self, db: &'a Db, seqs: &'a [i64]) -> BoxFuture<'a, StoreResult<Vec<Notification>>> {
            Box::pin(outbox::by_seqs(db, seqs))
        }
        fn publish(&self, hub: &platform_realtime::Hub<Topic, PushKind>, n: Notification) {
            let topic = Topic::User(n.account_id);
            if !n.shown || !hub.has_listeners(topic) {
                return;
            }
            let data = serde_json::json!({ "seq": n.seq, "event": n.event, "title": n.title, "body": n.body, "link": n.link });
            let json = Utf8Bytes::from(serde_json::json!({ "t": "notification", "data": data }).to_string());
            let kind = PushKind { seq: n.seq, actor: n.account_id, typing: false };
            hub.publish(Arc::new(platform_realtime::Push { topic, json, user_json: None, kind }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_its_own_words_in_both_parts_of_its_email() {
        let config = WebConfig::default();
        let mut sentences = std::collections::HashSet::new();
        for &event in Event::ALL {
            let due = Due {
                id: 1,
                channel: Channel::Email,
                attempts: 0,
                seq: 7,
                account_id: AccountId::new(),
                event,
                title: "A <title>".into(),
                body: "Body & more".into(),
                link: "/orders/x".into(),
                email: "sam@example.test".into(),
                display_name: "Sam".into(),
            };
            let mail = render_email(&config, &due).unwrap();
            let html = mail.html.unwrap_or_default();
            // The event's own sentence: the text part's line after the title.
            let sentence = mail.text.lines().nth(4).unwrap_or_default().to_string();
            assert!(sentence.ends_with('.'), "{event}: {:?}", mail.text);
            assert!(html.contains(&sentence), "{event}: the HTML part says {sentence:?} too");
            assert!(sentences.insert(sentence), "{event} shares its words with another event");
            assert!(mail.text.contains("Body & more") && mail.text.contains("A <title>"), "{event}");
            assert!(html.contains("Body &#38; more") && !html.contains("A <title>"), "{event}: escaped in HTML");
            let site = &config.notify.site_url;
            for part in [&mail.text, &html] {
                assert!(part.contains(&format!("{site}/unsubscribe?t=")) && part.contains(&format!("{site}/orders/x")), "{event}");
            }
            assert_eq!((mail.to, mail.subject), (vec!["sam@example.test".to_string()], "A <title> · GigStream".to_string()));
        }
        assert_eq!(sentences.len(), Event::ALL.len());
    }

    #[test]
    fn unsubscribe_tokens_are_signed() {
        let account = AccountId::new();
        let t = unsubscribe_token(b"secret", account, Some(Event::Delivered));
        assert_eq!(check_unsubscribe(b"secret", &t), Some((account, Some(Event::Delivered))));
        assert_eq!(check_unsubscribe(b"other", &t), None);
        let all = unsubscribe_token(b"secret", account, None);
        assert_eq!(check_unsubscribe(b"secret", &all), Some((account, None)));
        // A claim changed without its signature is refused.
        let (_, sig) = t.split_once('.').unwrap();
        let forged = format!("{}.{sig}", URL_SAFE_NO_PAD.encode(format!("{}:delivered", AccountId::new())));
        assert_eq!(check_unsubscribe(b"secret", &forged), None);
        assert_eq!(check_unsubscribe(b"secret", "garbage"), None);
    }
}
