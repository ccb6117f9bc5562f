//! Names people type: usernames, gig titles, tags, and the slugs made from
//! titles. Each newtype can only hold a valid value; its parser names the
//! field and says what is wrong.

use platform_kernel::FieldError;
use serde::Serialize;

macro_rules! text_newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_newtype!(
    /// 3–30 lowercase letters, digits and underscores, starting with a letter.
    Username
);
text_newtype!(
    /// A gig title: 15–80 characters, no line breaks or control characters.
    Title
);
text_newtype!(
    /// A search tag: 2–24 lowercase letters, digits, spaces or hyphens.
    Tag
);
text_newtype!(
    /// A URL-safe name: lowercase letters, digits and single hyphens, 1–90.
    Slug
);

/// Names nobody may take: they are paths of the site.
const RESERVED: &[&str] = &[
    "admin",
    "api",
    "assets",
    "media",
    "login",
    "logout",
    "signup",
    "search",
    "gigs",
    "orders",
    "dashboard",
    "settings",
    "support",
    "system",
];

impl Username {
    pub fn parse(text: &str) -> Result<Username, FieldError> {
        let f = "username";
        let t = text.trim().to_lowercase();
        let n = t.chars().count();
        if !(3..=30).contains(&n) {
            return Err(FieldError::new(f, "Username must be 3 to 30 characters"));
        }
        if !t.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(FieldError::new(f, "Username must start with a letter"));
        }
        if !t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(FieldError::new(f, "Username may hold only letters, digits and underscores"));
        }
        if RESERVED.contains(&t.as_str()) {
            return Err(FieldError::new(f, "That username is reserved"));
        }
        Ok(Username(t))
    }
}

impl Title {
    pub const MIN: usize = 15;
    pub const MAX: usize = 80;

    pub fn parse(text: &str) -> Result<Title, FieldError> {
        let f = "title";
        let t: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let n = t.chars().count();
        if n < Self::MIN {
            return Err(FieldError::new(f, format!("Title must be at least {} characters", Self::MIN)));
        }
        if n > Self::MAX {
            return Err(FieldError::new(f, format!("Title must be at most {} characters", Self::MAX)));
        }
        if t.chars().any(char::is_control) || t.contains(['<', '>']) {
            return Err(FieldError::new(f, "Title must be plain text"));
        }
        Ok(Title(t))
    }
}

impl Tag {
    /// At most this many tags per gig.
    pub const MAX_PER_GIG: usize = 5;

    pub fn parse(text: &str) -> Result<Tag, FieldError> {
        let f = "tags";
        let t = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        let n = t.chars().count();
        if !(2..=24).contains(&n) {
            return Err(FieldError::new(f, format!("Tag \"{}\" must be 2 to 24 characters", t)));
        }
        if !t.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '-') {
            return Err(FieldError::new(f, format!("Tag \"{t}\" may hold only letters, digits, spaces and hyphens")));
        }
        Ok(Tag(t))
    }

    /// A comma-separated list: trimmed, deduplicated, at most five.
    pub fn parse_list(text: &str) -> Result<Vec<Tag>, FieldError> {
        let mut tags: Vec<Tag> = vec![];
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let tag = Tag::parse(part)?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        if tags.len() > Self::MAX_PER_GIG {
            return Err(FieldError::new("tags", format!("At most {} tags", Self::MAX_PER_GIG)));
        }
        Ok(tags)
    }
}

impl Slug {
    /// A slug made from any text: ASCII letters and digits kept (accents
    /// dropped to their letter where common), everything else one hyphen.
    pub fn from_text(text: &str) -> Slug {
        let mut out = String::new();
        for c in text.chars().flat_map(char::to_lowercase) {
            let c = match c {
                'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
                'è' | 'é' | 'ê' | 'ë' => 'e',
                'ì' | 'í' | 'î' | 'ï' => 'i',
                'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
                'ù' | 'ú' | 'û' | 'ü' => 'u',
                'ç' => 'c',
                'ñ' => 'n',
                c => c,
            };
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let mut s: String = out.trim_end_matches('-').chars().take(80).collect();
        s = s.trim_end_matches('-').to_string();
        if s.is_empty() {
            s = "gig".into();
        }
        Slug(s)
    }

    /// A slug as given in a URL: must already be in slug form.
    pub fn parse(text: &str) -> Result<Slug, FieldError> {
        let ok = !text.is_empty()
            && text.len() <= 90
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-')
            && !text.contains("--");
        if ok {
            Ok(Slug(text.to_string()))
        } else {
            Err(FieldError::new("slug", "Not a valid address"))
        }
    }

    /// This slug with a numeric suffix, to make it unique.
    pub fn with_suffix(&self, n: u32) -> Slug {
        Slug(format!("{}-{n}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("amina_k", Ok("amina_k")),
            ("  Amina  ", Ok("amina")),
            ("ab", Err("Username must be 3 to 30 characters")),
            ("1amina", Err("Username must start with a letter")),
            ("ami-na", Err("Username may hold only letters, digits and underscores")),
            ("admin", Err("That username is reserved")),
            ("a".repeat(31).leak(), Err("Username must be 3 to 30 characters")),
        ];
        for (text, want) in cases {
            let got = Username::parse(text);
            assert_eq!(got.as_ref().map(Username::as_str).map_err(|e| e.message.as_str()), *want, "{text:?}");
        }
    }

    #[test]
    fn titles_are_trimmed_plain_text_of_bounded_length() {
        assert_eq!(Title::parse("  I will design   your logo  ").unwrap().as_str(), "I will design your logo");
        assert_eq!(Title::parse("short").unwrap_err().message, "Title must be at least 15 characters");
        assert_eq!(Title::parse(&"x".repeat(81)).unwrap_err().message, "Title must be at most 80 characters");
        assert_eq!(Title::parse("I will <script> your site").unwrap_err().message, "Title must be plain text");
        assert_eq!(Title::parse("I will write\u{0007} an essay").unwrap_err().message, "Title must be plain text");
    }

    #[test]
    fn tags_are_lowercase_deduplicated_and_few() {
        let tags = Tag::parse_list("Logo, logo design,  LOGO , minimal").unwrap();
        assert_eq!(tags.iter().map(Tag::as_str).collect::<Vec<_>>(), vec!["logo", "logo design", "minimal"]);
        assert!(Tag::parse_list("a,b").is_err(), "one letter");
        assert!(Tag::parse_list("one1,two2,three,four,five,six").unwrap_err().message.contains("At most 5"));
        assert!(Tag::parse("c++").is_err());
        assert_eq!(Tag::parse_list(" , ").unwrap(), vec![]);
    }

    #[test]
    fn slugs_are_made_from_titles() {
        let cases: &[(&str, &str)] = &[
            ("I will design your logo", "i-will-design-your-logo"),
            ("  Café — crème brûlée!! ", "cafe-creme-brulee"),
            ("***", "gig"),
            ("React/Next.js app", "react-next-js-app"),
        ];
        for (text, want) in cases {
            let s = Slug::from_text(text);
            assert_eq!(s.as_str(), *want);
            assert_eq!(Slug::parse(s.as_str()), Ok(s.clone()));
        }
        assert_eq!(Slug::from_text("logo").with_suffix(2).as_str(), "logo-2");
        for bad in ["", "Logo", "a--b", "-a", "a-", "a b", "../x"] {
            assert!(Slug::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Slug::from_text(&"word ".repeat(40)).as_str().len() <= 80);
    }
}
