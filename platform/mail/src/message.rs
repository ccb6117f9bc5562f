//! A message as products write it, turned into MIME by lettre.

use crate::MailError;
use lettre::message::header::ContentType;
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;

/// A file sent with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// A MIME type (`application/pdf`).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Attachment {
    pub fn new(filename: impl Into<String>, content_type: impl Into<String>, bytes: Vec<u8>) -> Self {
        Attachment { filename: filename.into(), content_type: content_type.into(), bytes }
    }
}

/// One message. Addresses are `addr@example.com` or
/// `Display Name <addr@example.com>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub from: String,
    pub to: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    /// The plain-text body (always sent).
    pub text: String,
    /// An HTML alternative.
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
}

impl Email {
    pub fn new(from: impl Into<String>, to: impl Into<String>, subject: impl Into<String>) -> Self {
        Email {
            from: from.into(),
            to: vec![to.into()],
            reply_to: None,
            subject: subject.into(),
            text: String::new(),
            html: None,
            attachments: Vec::new(),
        }
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    pub fn html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    pub fn also_to(mut self, to: impl Into<String>) -> Self {
        self.to.push(to.into());
        self
    }

    pub fn reply_to(mut self, reply_to: impl Into<String>) -> Self {
        self.reply_to = Some(reply_to.into());
        self
    }

    pub fn attach(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// The MIME message: text (with the HTML alternative), then the
    /// attachments, each as its own part.
    pub fn to_lettre(&self) -> Result<Message, MailError> {
        let mailbox = |s: &str| s.parse::<Mailbox>().map_err(|e| MailError::Invalid(format!("address {s:?}: {e}")));
        if self.to.is_empty() {
            return Err(MailError::Invalid("a message needs a recipient".into()));
        }
        let mut builder = Message::builder().from(mailbox(&self.from)?).subject(self.subject.clone()).message_id(None);
        for to in &self.to {
            builder = builder.to(mailbox(to)?);
        }
        if let Some(r) = &self.reply_to {
            builder = builder.reply_to(mailbox(r)?);
        }
        let text = SinglePart::plain(self.text.clone());
        let body = match &self.html {
            Some(html) => MultiPart::alternative().singlepart(text).singlepart(SinglePart::html(html.clone())),
            None => MultiPart::mixed().singlepart(text),
        };
        let built = if self.attachments.is_empty() && self.html.is_none() {
            builder.singlepart(SinglePart::plain(self.text.clone()))
        } else {
            let mut mixed = if self.html.is_some() { MultiPart::mixed().multipart(body) } else { body };
            for a in &self.attachments {
                let content_type = ContentType::parse(&a.content_type)
                    .map_err(|e| MailError::Invalid(format!("content type {:?}: {e}", a.content_type)))?;
                if a.filename.trim().is_empty() || a.filename.contains(['/', '\\', '\r', '\n']) {
                    return Err(MailError::Invalid(format!("attachment name {:?}", a.filename)));
                }
                mixed = mixed.singlepart(LettreAttachment::new(a.filename.clone()).body(a.bytes.clone(), content_type));
            }
            builder.multipart(mixed)
        };
        built.map_err(|e| MailError::Invalid(e.to_string()))
    }
}
