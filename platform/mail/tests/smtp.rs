//! Messages go through lettre over real loopback SMTP into the sink.

use platform_mail::testing::SmtpSink;
use platform_mail::{Attachment, Email, MailError, Mailer, MemoryMailer, SmtpConfig, SmtpMailer};

/// Bytes shaped like a small PDF, with every byte value and line breaks,
/// so the transfer encoding is really exercised.
fn pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
    bytes.extend(0u8..=255);
    bytes.extend(b"\n.\n..leading dots\n%%EOF\n");
    bytes
}

#[tokio::test]
async fn sends_through_smtp_with_an_attachment() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = SmtpMailer::new(sink.config()).unwrap();
    let email = Email::new("GigStream Billing <billing@gigstream.test>", "Amina Njeri <amina@example.com>", "Your invoice INV-2026-000042")
        .also_to("accounts@example.com")
        .reply_to("support@gigstream.test")
        .text("Hello Amina,\r\n\r\nThank you for your order. Your invoice is attached.\r\n.\r\nTotal: €21.98\r\n")
        .html("<p>Hello Amina,</p><p>Total: <strong>€21.98</strong></p>")
        .attach(Attachment::new("INV-2026-000042.pdf", "application/pdf", pdf()));
    mailer.send(&email).await.unwrap();

    let got = sink.wait_for(1).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.mail_from, "billing@gigstream.test");
    assert_eq!(m.rcpt_to, ["amina@example.com", "accounts@example.com"]);
    assert_eq!(m.header("from").as_deref(), Some("\"GigStream Billing\" <billing@gigstream.test>"));
    assert_eq!(m.header("to").as_deref(), Some("\"Amina Njeri\" <amina@example.com>, accounts@example.com"));
    assert_eq!(m.header("reply-to").as_deref(), Some("support@gigstream.test"));
    assert_eq!(m.header("subject").as_deref(), Some("Your invoice INV-2026-000042"));
    assert!(m.header("date").is_some() && m.header("message-id").is_some());
    let text = m.text().unwrap();
    assert!(text.contains("Thank you for your order.") && text.contains("Total: €21.98"), "{text}");
    assert!(text.contains("\r\n.\r\n"), "a line holding one dot survives SMTP's dot-stuffing: {text:?}");
    let html = m.parts().into_iter().find(|p| p.header("content-type").is_some_and(|t| t.starts_with("text/html"))).unwrap();
    assert!(html.text().contains("<strong>€21.98</strong>"));
    let attachments = m.attachments();
    assert_eq!(attachments.len(), 1);
    let (name, kind, bytes) = &attachments[0];
    assert_eq!((name.as_str(), kind.as_str()), ("INV-2026-000042.pdf", "application/pdf"));
    assert_eq!(bytes, &pdf(), "the attachment arrives byte for byte");

    // A second message on the pooled connection.
    mailer.send(&Email::new("a@gigstream.test", "b@example.com", "Plain").text("Just text.")).await.unwrap();
    let got = sink.wait_for(2).await;
    assert_eq!(got[1].text().as_deref().map(str::trim_end), Some("Just text."));
    assert!(got[1].attachments().is_empty());
}

#[tokio::test]
async fn bad_messages_and_dead_relays_are_errors() {
    let mailer = SmtpMailer::new(SmtpConfig::plain("127.0.0.1", 9)).unwrap();
    let ok = Email::new("a@example.com", "b@example.com", "Hi").text("x");
    assert!(matches!(mailer.send(&ok).await, Err(MailError::Transport(_))));
    let memory = MemoryMailer::new();
    for bad in [
        Email::new("not an address", "b@example.com", "Hi"),
        Email::new("a@example.com", "b@", "Hi"),
        Email { to: vec![], ..ok.clone() },
        ok.clone().attach(Attachment::new("../etc/passwd", "text/plain", vec![])),
        ok.clone().attach(Attachment::new("x.pdf", "not a type", vec![])),
    ] {
        assert!(matches!(memory.send(&bad).await, Err(MailError::Invalid(_))), "{bad:?}");
    }
    assert!(memory.sent().is_empty(), "nothing refused is kept");
    memory.send(&ok).await.unwrap();
    assert_eq!(memory.sent_to("b@example.com"), [ok]);
    assert!(memory.sent_to("c@example.com").is_empty());
}
