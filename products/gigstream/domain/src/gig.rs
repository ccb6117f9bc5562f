//! What a gig offers: up to three packages, FAQ, the questions a buyer
//! answers when ordering, and the seller level that search filters on.

use crate::money::{Currency, Money};
use platform_kernel::{FieldError, FieldErrors};
use serde::{Deserialize, Serialize};

platform_kernel::text_enum! {
    pub enum Tier { Basic => "basic", Standard => "standard", Premium => "premium" }
}

platform_kernel::text_enum! {
    pub enum GigStatus { Active => "active", Paused => "paused", Deleted => "deleted" }
}

platform_kernel::text_enum! {
    /// Earned by completed orders and rating.
    pub enum SellerLevel { New => "new", LevelOne => "level_one", LevelTwo => "level_two", TopRated => "top_rated" }
}

impl SellerLevel {
    pub fn label(self) -> &'static str {
        match self {
            SellerLevel::New => "New seller",
            SellerLevel::LevelOne => "Level 1",
            SellerLevel::LevelTwo => "Level 2",
            SellerLevel::TopRated => "Top rated",
        }
    }

    /// The level for a number of completed orders and an average rating in
    /// hundredths of a star (`None` without ratings).
    pub fn for_record(completed: i64, rating_x100: Option<i64>) -> SellerLevel {
        let rating = rating_x100.unwrap_or(0);
        match completed {
            n if n >= 50 && rating >= 480 => SellerLevel::TopRated,
            n if n >= 20 && rating >= 450 => SellerLevel::LevelTwo,
            n if n >= 5 => SellerLevel::LevelOne,
            _ => SellerLevel::New,
        }
    }
}

impl Tier {
    pub fn label(self) -> &'static str {
        match self {
            Tier::Basic => "Basic",
            Tier::Standard => "Standard",
            Tier::Premium => "Premium",
        }
    }
}

/// One package as a seller submits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub tier: Tier,
    pub name: String,
    pub description: String,
    pub price_minor: i64,
    pub delivery_days: i32,
    pub revisions: i32,
    pub items: Vec<String>,
}

/// A question and its answer on a gig page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faq {
    pub question: String,
    pub answer: String,
}

/// What the buyer must tell the seller to start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub question: String,
    pub required: bool,
}

/// The cheapest price a package may have, in major units.
pub const MIN_PRICE_MAJOR: i64 = 5;
pub const MAX_DELIVERY_DAYS: i32 = 90;
pub const MAX_REVISIONS: i32 = 20;
pub const MAX_ITEMS: usize = 10;
pub const MAX_FAQ: usize = 10;
pub const MAX_REQUIREMENTS: usize = 10;

fn text(field: &'static str, value: &str, min: usize, max: usize, what: &str) -> Result<String, FieldError> {
    let v = value.trim().to_string();
    let n = v.chars().count();
    if n < min || n > max {
        return Err(FieldError::new(field, format!("{what} must be {min} to {max} characters")));
    }
    Ok(v)
}

/// Checks a gig's packages: a basic one, each tier at most once, prices at
/// least the minimum and rising with the tier, sane days and revisions.
/// Returns them in tier order, with their fields trimmed.
pub fn check_packages(mut packages: Vec<Package>, currency: Currency) -> Result<Vec<Package>, FieldErrors> {
    let mut errors = FieldErrors::new();
    packages.sort_by_key(|p| p.tier as u8);
    for pair in packages.windows(2) {
        if pair[0].tier == pair[1].tier {
            errors.add("packages", format!("The {} package is given twice", pair[0].tier.label()));
        }
    }
    if packages.first().map(|p| p.tier) != Some(Tier::Basic) {
        errors.add("packages", "A gig needs a Basic package");
    }
    let min = Money::new(MIN_PRICE_MAJOR * currency.minor_per_major(), currency);
    for p in &mut packages {
        let t = p.tier.as_str();
        let field = |name: &'static str| name;
        if let Some(v) = errors.check(text(field("package_name"), &p.name, 2, 40, &format!("The {t} package's name"))) {
            p.name = v;
        }
        if let Some(v) = errors.check(text(field("package_description"), &p.description, 0, 300, &format!("The {t} package's description")))
        {
            p.description = v;
        }
        if p.price_minor < min.minor || p.price_minor > Money::MAX_MAJOR * currency.minor_per_major() {
            errors.add("price", format!("The {t} package's price must be at least {min}"));
        }
        if !(1..=MAX_DELIVERY_DAYS).contains(&p.delivery_days) {
            errors.add("delivery_days", format!("The {t} package's delivery time must be 1 to {MAX_DELIVERY_DAYS} days"));
        }
        if !(0..=MAX_REVISIONS).contains(&p.revisions) {
            errors.add("revisions", format!("The {t} package's revisions must be 0 to {MAX_REVISIONS}"));
        }
        p.items = p.items.iter().map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).collect();
        if p.items.len() > MAX_ITEMS || p.items.iter().any(|i| i.chars().count() > 60) {
            errors.add("items", format!("The {t} package lists at most {MAX_ITEMS} items of up to 60 characters"));
        }
    }
    for pair in packages.windows(2) {
        if pair[0].tier != pair[1].tier && pair[1].price_minor <= pair[0].price_minor {
            errors.add("price", format!("The {} package must cost more than the {} one", pair[1].tier.label(), pair[0].tier.label()));
        }
    }
    errors.into_result().map(|()| packages)
}

/// Trims the FAQ, dropping empty rows; refuses half-filled ones.
pub fn check_faq(faq: Vec<Faq>) -> Result<Vec<Faq>, FieldError> {
    let rows: Vec<Faq> = faq
        .into_iter()
        .map(|f| Faq { question: f.question.trim().into(), answer: f.answer.trim().into() })
        .filter(|f| !f.question.is_empty() || !f.answer.is_empty())
        .collect();
    if rows.len() > MAX_FAQ {
        return Err(FieldError::new("faq", format!("At most {MAX_FAQ} questions")));
    }
    for f in &rows {
        if f.question.is_empty() || f.answer.is_empty() || f.question.chars().count() > 200 || f.answer.chars().count() > 1000 {
            return Err(FieldError::new("faq", "Each FAQ entry needs a question (up to 200 characters) and an answer (up to 1000)"));
        }
    }
    Ok(rows)
}

/// Trims the requirement questions, dropping empty ones.
pub fn check_requirements(reqs: Vec<Requirement>) -> Result<Vec<Requirement>, FieldError> {
    let rows: Vec<Requirement> = reqs
        .into_iter()
        .map(|r| Requirement { question: r.question.trim().into(), required: r.required })
        .filter(|r| !r.question.is_empty())
        .collect();
    if rows.len() > MAX_REQUIREMENTS || rows.iter().any(|r| r.question.chars().count() > 300) {
        return Err(FieldError::new("requirements", format!("At most {MAX_REQUIREMENTS} questions of up to 300 characters")));
    }
    Ok(rows)
}

/// The buyer's answers against the gig's questions: every required one
/// answered, none longer than 5,000 characters. Returns question/answer pairs.
pub fn check_answers(questions: &[Requirement], answers: &[String]) -> Result<Vec<(String, String)>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut out = vec![];
    for (i, q) in questions.iter().enumerate() {
        let a = answers.get(i).map(|a| a.trim().to_string()).unwrap_or_default();
        if q.required && a.is_empty() {
            errors.add("answers", format!("Please answer: {}", q.question));
        }
        if a.chars().count() > 5_000 {
            errors.add("answers", "Answers are at most 5,000 characters");
        }
        out.push((q.question.clone(), a));
    }
    errors.into_result().map(|()| out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(tier: Tier, price: i64) -> Package {
        Package {
            tier,
            name: format!("{} pack", tier.label()),
            description: String::new(),
            price_minor: price,
            delivery_days: 3,
            revisions: 1,
            items: vec![" Source file ".into(), "".into()],
        }
    }

    #[test]
    fn packages_are_checked_by_the_rules() {
        let usd = Currency::Usd;
        let ok = check_packages(vec![pkg(Tier::Premium, 9000), pkg(Tier::Basic, 1000), pkg(Tier::Standard, 5000)], usd).unwrap();
        assert_eq!(ok.iter().map(|p| p.tier).collect::<Vec<_>>(), vec![Tier::Basic, Tier::Standard, Tier::Premium]);
        assert_eq!(ok[0].items, vec!["Source file"]);
        let fails = |ps: Vec<Package>| check_packages(ps, usd).unwrap_err().0.iter().map(|e| e.message.clone()).collect::<Vec<_>>();
        assert_eq!(fails(vec![pkg(Tier::Standard, 1000)]), vec!["A gig needs a Basic package"]);
        assert_eq!(fails(vec![pkg(Tier::Basic, 400)]), vec!["The basic package's price must be at least $5.00"]);
        assert_eq!(
            fails(vec![pkg(Tier::Basic, 1000), pkg(Tier::Standard, 1000)]),
            vec!["The Standard package must cost more than the Basic one"]
        );
        assert_eq!(fails(vec![pkg(Tier::Basic, 1000), pkg(Tier::Basic, 2000)]), vec!["The Basic package is given twice"]);
        let mut slow = pkg(Tier::Basic, 1000);
        slow.delivery_days = 0;
        slow.revisions = 99;
        assert_eq!(fails(vec![slow]).len(), 2);
        assert_eq!(
            check_packages(vec![pkg(Tier::Basic, 4)], Currency::Jpy).unwrap_err().0[0].message,
            "The basic package's price must be at least ¥5"
        );
    }

    #[test]
    fn answers_cover_the_required_questions() {
        let qs = vec![
            Requirement { question: "Your brand name?".into(), required: true },
            Requirement { question: "Colours?".into(), required: false },
        ];
        assert_eq!(
            check_answers(&qs, &["Acme".into()]).unwrap(),
            vec![("Your brand name?".into(), "Acme".into()), ("Colours?".into(), String::new())]
        );
        let e = check_answers(&qs, &["  ".into(), "blue".into()]).unwrap_err();
        assert_eq!(e.for_field("answers"), Some("Please answer: Your brand name?"));
    }

    #[test]
    fn levels_follow_the_record() {
        let cases = [
            (0, None, SellerLevel::New),
            (5, None, SellerLevel::LevelOne),
            (20, Some(460), SellerLevel::LevelTwo),
            (20, Some(440), SellerLevel::LevelOne),
            (60, Some(490), SellerLevel::TopRated),
        ];
        for (n, r, want) in cases {
            assert_eq!(SellerLevel::for_record(n, r), want);
        }
    }

    #[test]
    fn faq_rows_are_whole() {
        assert_eq!(check_faq(vec![Faq { question: " ".into(), answer: "".into() }]).unwrap(), vec![]);
        assert!(check_faq(vec![Faq { question: "Q?".into(), answer: "".into() }]).is_err());
        assert_eq!(
            check_requirements(vec![Requirement { question: " Logo text ".into(), required: true }]).unwrap()[0].question,
            "Logo text"
        );
    }
}
