//! An SMTP sink for tests: a small server on loopback that speaks enough
//! of RFC 5321 for a client to deliver (EHLO/HELO, MAIL, RCPT, DATA with
//! dot-unstuffing, RSET, NOOP, QUIT; no TLS, no AUTH), keeps every message,
//! and reads them back (headers, text parts, attachments) for assertions.

use base64::Engine;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One message as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA section, dot-unstuffed, CRLF line ends.
    pub data: String,
}

/// A MIME part: its headers (names lower case, folded lines joined) and
/// its decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Part {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A parameter of a header (`filename` of Content-Disposition).
    pub fn param(&self, header: &str, name: &str) -> Option<String> {
        let value = self.header(header)?;
        value.split(';').skip(1).find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"').to_string())
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn parse_part(raw: &str) -> Part {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let part = Part { headers, body: Vec::new() };
    let body = match part.header("content-transfer-encoding").map(str::to_ascii_lowercase).as_deref() {
        Some("base64") => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(compact).unwrap_or_default()
        }
        Some("quoted-printable") => quoted_printable(body),
        _ => body.as_bytes().to_vec(),
    };
    Part { body, ..part }
}

fn quoted_printable(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') => i += 3,
            b'=' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => out.push(b),
                    None => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Every leaf part of a message, depth first.
fn leaves(raw: &str, out: &mut Vec<Part>) {
    let part = parse_part(raw);
    let boundary = part
        .header("content-type")
        .filter(|t| t.to_ascii_lowercase().starts_with("multipart/"))
        .and_then(|_| part.param("content-type", "boundary"));
    let Some(boundary) = boundary else {
        out.push(part);
        return;
    };
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let delimiter = format!("--{boundary}");
    for chunk in body.split(delimiter.as_str()).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let chunk = chunk.strip_prefix("\r\n").unwrap_or(chunk);
        leaves(chunk.strip_suffix("\r\n").unwrap_or(chunk), out);
    }
}

impl Received {
    /// The top-level headers.
    pub fn message(&self) -> Part {
        parse_part(&self.data)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.message().header(name).map(str::to_string)
    }

    /// Every leaf part (text, HTML, attachments), in order.
    pub fn parts(&self) -> Vec<Part> {
        let mut out = Vec::new();
        leaves(&self.data, &mut out);
        out
    }

    /// The first `text/plain` part, decoded.
    pub fn text(&self) -> Option<String> {
        self.parts().into_iter().find(|p| p.header("content-type").is_none_or(|t| t.starts_with("text/plain"))).map(|p| p.text())
    }

    /// `(filename, content type, bytes)` of each attachment.
    pub fn attachments(&self) -> Vec<(String, String, Vec<u8>)> {
        self.parts()
            .into_iter()
            .filter(|p| p.header("content-disposition").is_some_and(|d| d.starts_with("attachment")))
            .map(|p| {
                let name = p.param("content-disposition", "filename").unwrap_or_default();
                let kind = p.header("content-type").unwrap_or_default().split(';').next().unwrap_or_default().trim().to_string();
                (name, kind, p.body)
            })
            .collect()
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    arrived: Notify,
}

/// The sink; it runs until dropped with the runtime.
#[derive(Clone)]
pub struct SmtpSink {
    port: u16,
    shared: Arc<Shared>,
}

impl SmtpSink {
    /// Listens on 127.0.0.1 on a free port.
    pub async fn start() -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    if let Err(e) = session(socket, &s).await {
                        tracing::debug!(error = %e, "smtp sink: session ended");
                    }
                });
            }
        });
        Ok(SmtpSink { port, shared })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// An SMTP config pointing at the sink (plain, no credentials).
    pub fn config(&self) -> crate::SmtpConfig {
        crate::SmtpConfig::plain("127.0.0.1", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("lock").clone()
    }

    /// Waits until `n` messages have arrived (or 10 s pass) and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let notified = self.shared.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.received();
            }
        }
    }
}

/// The address inside `MAIL FROM:<a>` / `RCPT TO:<a>`.
fn path_of(arg: &str) -> Option<String> {
    let start = arg.find('<')?;
    let end = arg[start..].find('>')? + start;
    Some(arg[start + 1..end].to_string())
}

async fn session(socket: tokio::net::TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.localhost ESMTP test sink\r\n").await?;
    let (mut from, mut rcpt): (Option<String>, Vec<String>) = (None, Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end();
        let verb = command.split(' ').next().unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800\r\n",
            "HELO" => b"250 sink.localhost\r\n",
            "MAIL" => match command.get(5..).filter(|a| a.to_ascii_uppercase().starts_with("FROM:")).and_then(path_of) {
                Some(a) => {
                    from = Some(a);
                    rcpt.clear();
                    b"250 2.1.0 OK\r\n"
                }
                None => b"501 5.5.4 Syntax: MAIL FROM:<address>\r\n",
            },
            "RCPT" => match (from.is_some(), command.get(5..).filter(|a| a.to_ascii_uppercase().starts_with("TO:")).and_then(path_of)) {
                (false, _) => b"503 5.5.1 MAIL first\r\n",
                (true, Some(a)) => {
                    rcpt.push(a);
                    b"250 2.1.5 OK\r\n"
                }
                (true, None) => b"501 5.5.4 Syntax: RCPT TO:<address>\r\n",
            },
            "DATA" if from.is_none() || rcpt.is_empty() => b"503 5.5.1 RCPT first\r\n",
            "DATA" => {
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    // RFC 5321, 4.5.2: a leading dot was doubled by the sender.
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let message = Received { mail_from: from.take().unwrap_or_default(), rcpt_to: std::mem::take(&mut rcpt), data };
                shared.received.lock().expect("lock").push(message);
                shared.arrived.notify_waiters();
                b"250 2.0.0 OK queued\r\n"
            }
            "RSET" => {
                from = None;
                rcpt.clear();
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Command not recognized\r\n",
        };
        write.write_all(reply).await?;
    }
}
