//! Page templates (compile-time checked by askama) and the small view
//! types they show.

use askama::Template;
use askama_web::WebTemplate;
use gigstream_domain::{Currency, Money};
use gigstream_store::search::{Facets, Hit};

/// What every page's header needs.
#[derive(Clone, Default)]
pub struct Chrome {
    pub csrf: String,
    pub username: Option<String>,
    pub q: String,
}

impl Chrome {
    pub fn signed_in(&self) -> bool {
        self.username.is_some()
    }
}

/// A gig card in lists.
pub struct Card {
    pub slug: String,
    pub title: String,
    pub seller: String,
    pub seller_username: String,
    pub level: &'static str,
    pub price: String,
    pub days: i32,
    pub cover: Option<String>,
}

impl Card {
    pub fn from_hit(h: &Hit) -> Card {
        Card {
            slug: h.slug.clone(),
            title: h.title.clone(),
            seller: h.seller_name.clone(),
            seller_username: h.seller_username.clone(),
            level: h.seller_level.label(),
            price: Money::new(h.min_price_minor, h.currency).to_string(),
            days: h.min_delivery_days,
            cover: h.cover.clone(),
        }
    }
}

impl Card {
    /// A card for one of a seller's own gigs.
    pub fn from_gig(g: &gigstream_store::gigs::Gig, seller: &str, seller_username: &str, cover: Option<String>) -> Card {
        Card {
            slug: g.slug.clone(),
            title: g.title.clone(),
            seller: seller.to_string(),
            seller_username: seller_username.to_string(),
            level: g.seller_level.label(),
            price: Money::new(g.min_price_minor, g.currency).to_string(),
            days: g.min_delivery_days,
            cover,
        }
    }
}

pub fn money(minor: i64, currency: Currency) -> String {
    Money::new(minor, currency).to_string()
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    /// The page the platform's error layer asks for (status, title, message).
    pub page: &'a platform_web::error_pages::ErrorPage<'a>,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct Home {
    pub chrome: Chrome,
    pub categories: Vec<(String, String)>,
    pub cards: Vec<Card>,
}

/// A facet link: its label, count, the URL that applies it, whether it is on.
pub struct FacetLink {
    pub label: String,
    pub count: i64,
    pub href: String,
    pub active: bool,
}

pub struct FacetGroup {
    pub name: &'static str,
    pub links: Vec<FacetLink>,
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub chrome: Chrome,
    pub q: String,
    pub total: i64,
    pub cards: Vec<Card>,
    pub groups: Vec<FacetGroup>,
    pub sorts: Vec<FacetLink>,
    pub suggestion: Option<String>,
    pub corrected: bool,
    /// The total and facet counts are estimates (a very common combination of words).
    pub approximate: bool,
    /// The API URL of the next page, for infinite scroll.
    pub next: Option<String>,
    #[allow(dead_code)]
    pub facets: Facets,
}

pub struct PackageView {
    pub tier: String,
    pub label: &'static str,
    pub name: String,
    pub price: String,
    pub days: i32,
    pub revisions: i32,
    pub items: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "gig.html")]
pub struct GigView {
    pub chrome: Chrome,
    pub slug: String,
    pub title: String,
    pub paused: bool,
    pub is_owner: bool,
    pub seller: String,
    pub seller_username: String,
    pub level: &'static str,
    pub category: String,
    pub tags: Vec<String>,
    pub description_html: String,
    pub packages: Vec<PackageView>,
    pub images: Vec<String>,
    pub faq: Vec<(String, String)>,
    pub reviews: crate::views::ReviewSummary,
    /// The newest ready video: (MP4 URL, poster URL).
    pub video: Option<(String, String)>,
    /// Whether the signed-in visitor saved this gig (none: signed out or the owner).
    pub favourite: Option<bool>,
}

#[derive(Template, WebTemplate)]
#[template(path = "gig_form.html")]
pub struct GigFormPage {
    pub chrome: Chrome,
    pub action: String,
    pub heading: &'static str,
    pub form: crate::forms::GigPageForm,
    pub categories: Vec<(String, String, bool)>,
    pub errors: Vec<(String, String)>,
    /// Set when editing: the gig's id for the picture upload form.
    pub gig_id: Option<String>,
    pub images: Vec<String>,
}

pub struct TimelineLine {
    pub words: &'static str,
    pub actor: String,
    pub note: Option<String>,
    pub amount: Option<String>,
    pub at: String,
}

pub struct DeliveryView {
    pub version: i64,
    pub message: String,
    pub at: String,
    pub files: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "order.html")]
pub struct OrderPage {
    pub chrome: Chrome,
    pub id: String,
    pub title: String,
    pub package: String,
    pub status: &'static str,
    pub status_class: String,
    pub you_are: String,
    pub late: bool,
    pub due: Option<String>,
    pub price: String,
    pub fee: String,
    pub total: String,
    pub revisions_left: i32,
    pub questions: Vec<String>,
    pub answers: Vec<(String, String)>,
    pub timeline: Vec<TimelineLine>,
    pub deliveries: Vec<DeliveryView>,
    /// Actions this person may take now: (path segment, label, needs text, destructive).
    pub actions: Vec<(&'static str, &'static str, bool, bool)>,
    /// The methods the buyer may pay an unpaid order with: (value, label).
    pub pay_methods: Vec<(&'static str, &'static str)>,
    pub can_submit_requirements: bool,
    pub can_deliver: bool,
    /// The order's invoice and credit notes: (id, "Invoice GS-…").
    pub invoices: Vec<(String, String)>,
}

pub struct OrderLine {
    pub id: String,
    pub title: String,
    pub status: &'static str,
    pub total: String,
    pub late: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "user.html")]
pub struct UserPage {
    pub chrome: Chrome,
    pub username: String,
    pub name: String,
    pub headline: String,
    pub bio: String,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
    pub portfolio: Vec<gigstream_store::profiles::PortfolioItem>,
    pub response_hours: i32,
    pub member_since: String,
    pub stats: gigstream_store::profiles::Stats,
    pub cards: Vec<Card>,
    pub is_me: bool,
    pub reviews: crate::views::ReviewSummary,
}

#[derive(Template, WebTemplate)]
#[template(path = "profile_form.html")]
pub struct ProfileFormPage {
    pub chrome: Chrome,
    pub form: crate::forms::ProfileForm,
    pub errors: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth.html")]
pub struct AuthPage {
    pub chrome: Chrome,
    /// Whether "Continue with Google" is offered.
    pub google: bool,
    pub signup: bool,
    pub next: String,
    pub login: String,
    pub form: crate::forms::SignUp,
    pub errors: Vec<(String, String)>,
}

/// One withdrawal in a list.
pub struct WithdrawalLine {
    pub id: String,
    pub amount: String,
    pub payout: String,
    pub method: &'static str,
    pub destination: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub note: Option<String>,
    pub at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "wallet.html")]
pub struct WalletPage {
    pub chrome: Chrome,
    pub pending: String,
    pub available: String,
    pub withdrawing: String,
    pub withdrawn: String,
    pub clearance_days: u32,
    pub minimum: String,
    pub fee: String,
    /// (value, label, where the payout goes)
    pub methods: Vec<(&'static str, &'static str, &'static str)>,
    /// (order id, gig, amount, when available)
    pub earnings: Vec<(String, String, String, String)>,
    pub withdrawals: Vec<WithdrawalLine>,
    pub errors: Vec<(String, String)>,
    pub amount: String,
    pub method: String,
    pub destination: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub chrome: Chrome,
    pub username: String,
    pub email: String,
    pub verified: bool,
    /// Gigs an admin removed: title, reason, when.
    pub removed: Vec<(String, String, String)>,
    pub errors: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "legal.html")]
pub struct LegalPage {
    pub chrome: Chrome,
    pub title: &'static str,
    pub updated: &'static str,
    /// The Terms of Service; otherwise the Privacy page.
    pub terms: bool,
}
