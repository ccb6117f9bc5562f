//! Templates of the messaging and review pages, and the small view types
//! they show.

use crate::templates::Chrome;
use askama::Template;
use askama_web::WebTemplate;

pub struct InboxLineView {
    pub id: String,
    pub subject: String,
    pub kind: &'static str,
    pub other: String,
    pub unread: i64,
    pub at: String,
    /// The other party's status: "Online", "Last seen …".
    pub presence: String,
    pub online: bool,
}

pub struct SearchHitView {
    pub conversation_id: String,
    pub subject: String,
    pub sender: String,
    pub body: String,
    pub at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "messages.html")]
pub struct InboxPage {
    pub chrome: Chrome,
    pub me: String,
    pub q: String,
    pub searched: bool,
    pub errors: Vec<(String, String)>,
    pub hits: Vec<SearchHitView>,
    pub lines: Vec<InboxLineView>,
    pub unread_total: i64,
}

pub struct MessageView {
    pub seq: i64,
    pub mine: bool,
    /// One's own message, read by the other side.
    pub seen: bool,
    pub sender: String,
    pub body: String,
    pub at: String,
    pub attachments: Vec<AttachmentView>,
}

/// A file in a message as the thread shows it.
pub struct AttachmentView {
    pub url: String,
    pub name: String,
    /// "image", "video" or "doc".
    pub kind: &'static str,
    /// A video's state: "pending", "processing", "ready", "failed".
    pub status: String,
    /// "Converting… 40%", or why it failed.
    pub words: String,
    pub poster: Option<String>,
    pub mp4: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "conversation.html")]
pub struct ConversationPage {
    pub chrome: Chrome,
    pub id: String,
    pub me: String,
    pub subject: String,
    pub other: String,
    /// The other party's status: "Online", "Last seen …".
    pub presence: String,
    pub online: bool,
    pub order_id: Option<String>,
    pub messages: Vec<MessageView>,
    pub last_seq: i64,
    pub body: String,
    pub errors: Vec<(String, String)>,
}

/// One review as pages show it.
pub struct ReviewLine {
    pub id: String,
    pub reviewer: String,
    pub gig_title: String,
    pub overall: i32,
    /// "★★★★☆".
    pub stars: String,
    pub communication: Option<i32>,
    pub as_described: Option<i32>,
    pub recommend: Option<bool>,
    pub comment: String,
    pub reply: Option<String>,
    pub at: String,
    pub editable: bool,
}

/// The review block on gig pages and profiles.
#[derive(Default)]
pub struct ReviewSummary {
    pub count: i64,
    /// "4.8".
    pub average: Option<String>,
    pub recommend_percent: Option<i64>,
    /// (stars, count, percent), 5 down to 1.
    pub distribution: Vec<(i32, i64, i64)>,
    pub latest: Vec<ReviewLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "review.html")]
pub struct ReviewPage {
    pub chrome: Chrome,
    pub order_id: String,
    pub title: String,
    /// The viewer is the buyer, reviewing the seller.
    pub of_seller: bool,
    /// Why reviews are not open yet.
    pub closed_reason: Option<&'static str>,
    pub may_write: bool,
    pub mine: Option<ReviewLine>,
    pub theirs: Option<ReviewLine>,
    /// The viewer is the seller and the buyer's review has no reply yet.
    pub may_reply: bool,
    pub overall: i64,
    pub communication: i64,
    pub as_described: i64,
    pub recommend: Option<bool>,
    pub comment: String,
    pub errors: Vec<(String, String)>,
}

impl ReviewPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "review_insights.html")]
pub struct ReviewInsightsPage {
    pub chrome: Chrome,
    pub count: i64,
    pub average: Option<String>,
    pub communication: Option<String>,
    pub as_described: Option<String>,
    pub recommend_percent: Option<i64>,
    pub distribution: Vec<(i32, i64, i64)>,
    /// (category, count, average).
    pub by_category: Vec<(String, i64, String)>,
    /// (month, count, average).
    pub trend: Vec<(String, i64, Option<String>)>,
    pub latest: Vec<ReviewLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "videos.html")]
pub struct VideosPage {
    pub chrome: Chrome,
    pub gig_id: String,
    pub slug: String,
    pub title: String,
    /// (status, in words, MP4 URL, poster URL), newest first.
    pub videos: Vec<(String, String, Option<String>, Option<String>)>,
    /// A conversion is under way: the page reloads itself to show progress.
    pub busy: bool,
}

/// A chart as SVG and the same numbers as table rows (label, orders, amount).
pub struct ChartView {
    pub id: String,
    pub title: String,
    pub svg: String,
    pub rows: Vec<(String, i64, String)>,
}

/// One line of the activity timeline.
pub struct TimelineLine {
    pub order_id: String,
    pub title: String,
    pub what: &'static str,
    /// "selling" or "buying".
    pub side: &'static str,
    pub status: &'static str,
    pub at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct SellerDashboard {
    pub chrome: Chrome,
    pub pending: String,
    pub available: String,
    pub month_total: String,
    pub response_percent: Option<i64>,
    pub response_asked: i64,
    pub response_median: Option<String>,
    /// Earnings per day, then per month.
    pub charts: Vec<ChartView>,
    pub pipeline: Vec<(&'static str, i64)>,
    pub actions: Vec<gigstream_domain::dashboard::QuickAction>,
    pub timeline: Vec<TimelineLine>,
    pub review_count: i64,
    pub review_average: Option<String>,
    pub review_recommend: Option<i64>,
    /// (stars, count, percent), 5 down to 1.
    pub review_distribution: Vec<(i32, i64, i64)>,
    /// (slug, title, status, price from).
    pub gigs: Vec<(String, String, String, String)>,
    pub selling: Vec<crate::templates::OrderLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard_buying.html")]
pub struct BuyerDashboard {
    pub chrome: Chrome,
    pub to_do: Vec<(crate::templates::OrderLine, &'static str)>,
    pub pipeline: Vec<(&'static str, i64)>,
    pub orders: Vec<crate::templates::OrderLine>,
    /// The favourite gigs.
    pub cards: Vec<crate::templates::Card>,
}
