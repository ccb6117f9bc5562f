//! The Terms of Service and the Privacy Policy: which documents exist, the
//! text shipped until an admin edits it, what an edited text may contain,
//! and how plain text becomes headings, paragraphs and list items.

use crate::validation::FieldError;

/// A public legal document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegalDoc {
    Terms,
    Privacy,
}

impl LegalDoc {
    pub const ALL: [LegalDoc; 2] = [LegalDoc::Terms, LegalDoc::Privacy];

    /// Its name in URLs (`/terms`, `/api/legal/terms`).
    pub fn slug(self) -> &'static str {
        match self {
            LegalDoc::Terms => "terms",
            LegalDoc::Privacy => "privacy",
        }
    }

    pub fn from_slug(s: &str) -> Option<LegalDoc> {
        LegalDoc::ALL.into_iter().find(|d| d.slug() == s)
    }

    pub fn title(self) -> &'static str {
        match self {
            LegalDoc::Terms => "Terms of Service",
            LegalDoc::Privacy => "Privacy Policy",
        }
    }

    /// Where an edited text is kept among the settings.
    pub fn settings_key(self) -> &'static str {
        match self {
            LegalDoc::Terms => "legal_terms",
            LegalDoc::Privacy => "legal_privacy",
        }
    }

    /// The text in force until an admin saves another.
    pub fn default_text(self) -> &'static str {
        match self {
            LegalDoc::Terms => DEFAULT_TERMS,
            LegalDoc::Privacy => DEFAULT_PRIVACY,
        }
    }
}

/// The longest text an admin may save.
pub const MAX_CHARS: usize = 50_000;

/// An edited text: trimmed, 1–50,000 characters, no control characters
/// other than line breaks and tabs.
pub fn text(input: &str) -> Result<String, FieldError> {
    let t = input.trim().replace("\r\n", "\n");
    let err = |m: &str| FieldError::new("text", m);
    if t.is_empty() {
        return Err(err("Enter the text"));
    }
    if t.chars().count() > MAX_CHARS {
        return Err(err("The text must be at most 50,000 characters"));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(err("The text contains control characters"));
    }
    Ok(t)
}

/// One block of a document as shown on its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A line starting with `## `.
    Heading(String),
    /// Consecutive lines starting with `- ` (an indented line continues
    /// the item above).
    List(Vec<String>),
    /// Other consecutive lines, joined with spaces.
    Paragraph(String),
}

/// Splits a text into blocks at blank lines, headings and list items.
/// Everything stays plain text; the page escapes it.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let flush = |para: &mut Vec<&str>, out: &mut Vec<Block>| {
        if !para.is_empty() {
            out.push(Block::Paragraph(para.join(" ")));
            para.clear();
        }
    };
    for raw in text.lines() {
        let line = raw.trim();
        let indented = raw.starts_with([' ', '\t']);
        if line.is_empty() {
            flush(&mut para, &mut out);
        } else if let Some(h) = line.strip_prefix("## ") {
            flush(&mut para, &mut out);
            out.push(Block::Heading(h.trim().to_string()));
        } else if let Some(item) = line.strip_prefix("- ") {
            flush(&mut para, &mut out);
            match out.last_mut() {
                Some(Block::List(items)) => items.push(item.trim().to_string()),
                _ => out.push(Block::List(vec![item.trim().to_string()])),
            }
        } else {
            // An indented line right after a list item continues that item.
            if let (true, true, Some(Block::List(items))) = (indented, para.is_empty(), out.last_mut()) {
                if let Some(last) = items.last_mut() {
                    last.push(' ');
                    last.push_str(line);
                    continue;
                }
            }
            para.push(line);
        }
    }
    flush(&mut para, &mut out);
    out
}

const DEFAULT_TERMS: &str = "\
These terms apply to everyone who uses Fantooo. By creating an account you accept them.

## The service
Fantooo is an entertainment chat service. You chat with the people on our profiles for fun and company. Conversations are for entertainment; do not rely on them for advice, and do not expect to meet anyone in person.

## Who may join
- You must be 18 or older.
- One account per person. Keep your password to yourself; you are responsible for what happens under your account.
- We may refuse, suspend or close an account that breaks these terms.

## Credits and payment
- The first messages of each chat are free; after that, each message costs credits as shown before you send it.
- Credits are bought in packages through our payment provider. Prices are shown in your currency before you pay.
- Credits have no cash value and cannot be transferred. Credits you did not use may be refunded when we close your account at your request, as described in the Privacy Policy.

## How to behave
- Be respectful. No harassment, threats, hate, or content involving minors.
- Do not share contact details, payment details or links, and do not ask others for them.
- Do not use the service to advertise, to scam, or with automated tools.

## Changes and contact
We may change these terms; the date of the change is shown on this page, and continuing to use Fantooo means you accept the new terms. Questions: contact us through the address on our website.";

const DEFAULT_PRIVACY: &str = "\
This policy says what we keep about you, why, and what you can do about it.

## What we keep
- Your account: username, display name, age, gender, who you are looking for, city, and the password (stored only as a one-way hash).
- Your chats: the messages you send and receive, and when they were sent and read.
- Your purchases: packages bought, amounts, and the payment provider's reference. We never see or store card numbers.
- Security records: the network address and device of sign-ins and sign-ups, kept to stop abuse.

## Why
To run the service, to charge for it correctly, to keep it safe, and to meet legal duties such as age checks and accounting.

## Who sees it
Our staff, where their work needs it, and our payment provider for payments. We do not sell your data.

## How long
Messages and records are kept while your account is open. Payment records are kept as long as accounting law requires.

## Your rights
- See your data and take a copy.
- Correct your profile at any time.
- Delete your account: your messages and profile are anonymised, and credits you did not use may be refunded.
Ask through the contact address on our website; we answer within 30 days.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip_and_unknown_is_none() {
        for d in LegalDoc::ALL {
            assert_eq!(LegalDoc::from_slug(d.slug()), Some(d));
        }
        assert_eq!(LegalDoc::from_slug("cookies"), None);
    }

    #[test]
    fn text_rules() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("  hello \r\nworld ", Ok("hello \nworld")),
            ("", Err("Enter the text")),
            ("   \n ", Err("Enter the text")),
            ("tab\tok", Ok("tab\tok")),
            ("bell\u{7}", Err("The text contains control characters")),
        ];
        for (input, want) in cases {
            let got = text(input).map_err(|e| e.message);
            assert_eq!(got.as_deref().map_err(String::as_str), want.as_ref().map(|s| *s).map_err(|s| *s), "{input:?}");
        }
        assert!(text(&"x".repeat(MAX_CHARS)).is_ok());
        assert!(text(&"x".repeat(MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn blocks_from_plain_text() {
        let t = "Intro line one\nline two\n\n## Heading\n- first\n  wrapped\n- second\nAfter list\n\n\nLast";
        assert_eq!(
            blocks(t),
            vec![
                Block::Paragraph("Intro line one line two".into()),
                Block::Heading("Heading".into()),
                Block::List(vec!["first wrapped".into(), "second".into()]),
                Block::Paragraph("After list".into()),
                Block::Paragraph("Last".into()),
            ]
        );
        assert_eq!(blocks(""), vec![]);
    }

    #[test]
    fn shipped_texts_are_valid_and_speak_publicly() {
        for d in LegalDoc::ALL {
            let t = d.default_text();
            assert_eq!(text(t).as_deref(), Ok(t));
            assert!(blocks(t).iter().any(|b| matches!(b, Block::Heading(_))));
            let lower = t.to_lowercase();
            for word in ["operator", "admin", "fictional", "managed"] {
                assert!(!lower.contains(word), "{} mentions {word}", d.title());
            }
        }
    }
}
