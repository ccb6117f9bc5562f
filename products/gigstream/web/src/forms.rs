//! Input of pages and API alike, checked in one place: every field error
//! is collected and named, so a form shows them all at once and the API
//! answers 422 with `fields`.

use gigstream_domain::gig::{self, Faq, Package, Requirement, Tier};
use gigstream_domain::names::{Tag, Title};
use gigstream_domain::{richtext, Currency, Money};
use gigstream_store::gigs::GigInput;
use gigstream_store::profiles::{PortfolioItem, Profile};
use platform_kernel::FieldErrors;
use serde::Deserialize;
use sqlx::types::Json;

/// A package as submitted: the price as decimal text ("25" or "25.50").
#[derive(Debug, Clone, Deserialize)]
pub struct PackageForm {
    pub tier: Tier,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub price: String,
    pub delivery_days: i32,
    pub revisions: i32,
    #[serde(default)]
    pub items: Vec<String>,
}

/// A gig as the API takes it.
#[derive(Debug, Clone, Deserialize)]
pub struct GigForm {
    pub title: String,
    pub category: String,
    #[serde(default)]
    pub subcategory: Option<String>,
    /// Comma-separated.
    #[serde(default)]
    pub tags: String,
    /// Rich text (HTML); cleaned before it is stored.
    pub description: String,
    pub packages: Vec<PackageForm>,
    #[serde(default)]
    pub faq: Vec<Faq>,
    #[serde(default)]
    pub requirements: Vec<Requirement>,
}

impl GigForm {
    /// The checked input, or every field at fault.
    pub fn check(self, currency: Currency) -> Result<GigInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = errors.check(Title::parse(&self.title));
        if self.category.trim().is_empty() {
            errors.add("category", "Choose a category");
        }
        let tags = errors.check(Tag::parse_list(&self.tags));
        let description_html = richtext::sanitize(&self.description);
        let words = richtext::plain_text(&description_html).chars().count();
        if words < 20 {
            errors.add("description", "Describe the gig in at least 20 characters");
        } else if description_html.len() > richtext::MAX_BYTES {
            errors.add("description", "The description is too long");
        }
        let mut packages = vec![];
        for p in self.packages {
            match Money::parse(&p.price, currency) {
                Ok(m) => packages.push(Package {
                    tier: p.tier,
                    name: p.name,
                    description: p.description,
                    price_minor: m.minor,
                    delivery_days: p.delivery_days,
                    revisions: p.revisions,
                    items: p.items,
                }),
                Err(e) => errors.add("price", format!("The {} package's price {e}", p.tier)),
            }
        }
        let packages = match gig::check_packages(packages, currency) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };
        let faq = errors.check(gig::check_faq(self.faq));
        let requirements = errors.check(gig::check_requirements(self.requirements));
        errors.into_result()?;
        Ok(GigInput {
            title: title.expect("checked"),
            category: self.category.trim().to_string(),
            subcategory: self.subcategory.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            tags: tags.expect("checked"),
            description_html,
            faq: faq.expect("checked"),
            requirements: requirements.expect("checked"),
            currency,
            packages: packages.expect("checked"),
        })
    }
}

/// The gig form of the page: flat fields, one group per package, three
/// FAQ rows and three requirement questions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GigPageForm {
    pub title: String,
    pub category: String,
    pub subcategory: String,
    pub tags: String,
    pub description: String,
    pub basic_name: String,
    pub basic_price: String,
    pub basic_days: String,
    pub basic_revisions: String,
    pub basic_items: String,
    pub standard_name: String,
    pub standard_price: String,
    pub standard_days: String,
    pub standard_revisions: String,
    pub standard_items: String,
    pub premium_name: String,
    pub premium_price: String,
    pub premium_days: String,
    pub premium_revisions: String,
    pub premium_items: String,
    pub faq_q1: String,
    pub faq_a1: String,
    pub faq_q2: String,
    pub faq_a2: String,
    pub req_1: String,
    pub req_2: String,
    pub req_3: String,
}

impl GigPageForm {
    pub fn into_gig_form(self) -> GigForm {
        let pkg = |tier: Tier, name: &str, price: &str, days: &str, revisions: &str, items: &str| {
            (!name.trim().is_empty() || !price.trim().is_empty()).then(|| PackageForm {
                tier,
                name: name.into(),
                description: String::new(),
                price: price.into(),
                delivery_days: days.trim().parse().unwrap_or(0),
                revisions: revisions.trim().parse().unwrap_or(-1),
                items: items.lines().map(str::to_string).collect(),
            })
        };
        let packages = [
            pkg(Tier::Basic, &self.basic_name, &self.basic_price, &self.basic_days, &self.basic_revisions, &self.basic_items),
            pkg(
                Tier::Standard,
                &self.standard_name,
                &self.standard_price,
                &self.standard_days,
                &self.standard_revisions,
                &self.standard_items,
            ),
            pkg(Tier::Premium, &self.premium_name, &self.premium_price, &self.premium_days, &self.premium_revisions, &self.premium_items),
        ]
        .into_iter()
        .flatten()
        .collect();
        GigForm {
            title: self.title,
            category: self.category,
            subcategory: Some(self.subcategory),
            tags: self.tags,
            description: self.description,
            packages,
            faq: vec![Faq { question: self.faq_q1, answer: self.faq_a1 }, Faq { question: self.faq_q2, answer: self.faq_a2 }],
            requirements: [self.req_1, self.req_2, self.req_3].into_iter().map(|q| Requirement { question: q, required: true }).collect(),
        }
    }
}

/// A seller profile as submitted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    pub headline: String,
    pub bio: String,
    /// Comma-separated.
    pub skills: String,
    /// Comma-separated.
    pub languages: String,
    pub response_hours: i32,
    pub portfolio: Vec<PortfolioItem>,
    /// The page's one portfolio row.
    pub portfolio_title: String,
    pub portfolio_url: String,
    pub portfolio_description: String,
}

fn list(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    v.dedup();
    v
}

impl ProfileForm {
    pub fn check(mut self) -> Result<Profile, FieldErrors> {
        let mut errors = FieldErrors::new();
        let headline = self.headline.trim().to_string();
        if headline.chars().count() > 80 || headline.contains(['<', '>']) {
            errors.add("headline", "Headline is plain text of up to 80 characters");
        }
        if self.bio.chars().count() > 2_000 {
            errors.add("bio", "About you is at most 2,000 characters");
        }
        let skills = list(&self.skills);
        if skills.len() > 15 || skills.iter().any(|s| s.chars().count() > 30) {
            errors.add("skills", "At most 15 skills of up to 30 characters");
        }
        let languages = list(&self.languages);
        if languages.len() > 8 || languages.iter().any(|s| s.chars().count() > 30) {
            errors.add("languages", "At most 8 languages");
        }
        let hours = if self.response_hours == 0 { 24 } else { self.response_hours };
        if !(1..=168).contains(&hours) {
            errors.add("response_hours", "Response time is 1 to 168 hours");
        }
        if !self.portfolio_title.trim().is_empty() || !self.portfolio_url.trim().is_empty() {
            self.portfolio.push(PortfolioItem {
                title: self.portfolio_title.clone(),
                url: self.portfolio_url.clone(),
                description: self.portfolio_description.clone(),
            });
        }
        let mut portfolio = vec![];
        for p in self.portfolio {
            let (title, url) = (p.title.trim().to_string(), p.url.trim().to_string());
            if title.is_empty() || title.chars().count() > 80 {
                errors.add("portfolio", "Each portfolio item needs a title of up to 80 characters");
            } else if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 300 || url.contains(['"', '<', '>', ' '])
            {
                errors.add("portfolio", "Each portfolio item needs a web address starting with https://");
            } else {
                portfolio.push(PortfolioItem { title, url, description: p.description.trim().chars().take(300).collect() });
            }
        }
        if portfolio.len() > 12 {
            errors.add("portfolio", "At most 12 portfolio items");
        }
        errors.into_result()?;
        Ok(Profile {
            headline,
            bio: self.bio.trim().to_string(),
            skills: Json(skills),
            languages: Json(languages),
            portfolio: Json(portfolio),
            response_hours: hours,
        })
    }
}

/// A sign-up as submitted (page or API).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SignUp {
    pub email: String,
    pub username: String,
    pub display_name: String,
    pub password: String,
}

/// The checked sign-up: email, username, display name.
pub fn check_sign_up(s: &SignUp) -> Result<(String, String, String), FieldErrors> {
    let mut errors = FieldErrors::new();
    let email = s.email.trim().to_lowercase();
    let at = email.find('@');
    if email.len() > 254
        || !at.is_some_and(|i| i > 0 && email[i + 1..].contains('.') && !email.ends_with('.'))
        || email.contains(char::is_whitespace)
    {
        errors.add("email", "Enter a valid email address");
    }
    let names = check_identity(&s.username, &s.display_name);
    if let Err(e) = &names {
        errors.0.extend(e.0.iter().cloned());
    }
    errors.check(platform_accounts::password::strength(&s.password));
    errors.into_result()?;
    let (username, name) = names?;
    Ok((email, username, name))
}

/// A username and display name (sign-up, and Google's new-account step).
pub fn check_identity(username: &str, display_name: &str) -> Result<(String, String), FieldErrors> {
    let mut errors = FieldErrors::new();
    let username = errors.check(gigstream_domain::names::Username::parse(username));
    let name = display_name.trim().to_string();
    if name.is_empty() || name.chars().count() > 50 || name.contains(['<', '>']) {
        errors.add("display_name", "Your name is 1 to 50 characters of plain text");
    }
    errors.into_result()?;
    Ok((username.expect("checked").into_string(), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gig_form_names_every_bad_field() {
        let form = GigForm {
            title: "short".into(),
            category: "".into(),
            subcategory: None,
            tags: "ok, c++".into(),
            description: "<script>alert(1)</script>tiny".into(),
            packages: vec![PackageForm {
                tier: Tier::Basic,
                name: "Basic".into(),
                description: String::new(),
                price: "abc".into(),
                delivery_days: 2,
                revisions: 1,
                items: vec![],
            }],
            faq: vec![],
            requirements: vec![],
        };
        let e = form.check(Currency::Usd).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field).collect();
        for f in ["title", "category", "tags", "description", "price"] {
            assert!(fields.contains(&f), "{f} missing in {fields:?}");
        }
    }

    #[test]
    fn sign_ups_are_checked() {
        let ok = SignUp {
            email: " Amina@Example.com ".into(),
            username: "amina".into(),
            display_name: "Amina".into(),
            password: "Str0ng!pass".into(),
        };
        assert_eq!(check_sign_up(&ok).unwrap(), ("amina@example.com".into(), "amina".into(), "Amina".into()));
        let bad = SignUp { email: "nope".into(), username: "1x".into(), display_name: "".into(), password: "weak".into() };
        assert_eq!(check_sign_up(&bad).unwrap_err().0.len(), 4);
    }
}
