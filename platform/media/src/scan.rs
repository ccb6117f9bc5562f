//! Virus scanning before anything is stored: the [`Scanner`] trait and
//! [`Clamd`], a client of ClamAV's daemon speaking its `INSTREAM` protocol
//! over TCP or a Unix socket.
//!
//! The protocol (clamd(8)): the client sends `zINSTREAM\0`, then the file
//! in chunks, each a 4-byte big-endian length followed by that many bytes,
//! and a zero length to end; clamd answers one NUL-terminated line,
//! `stream: OK`, `stream: <signature> FOUND`, or `<reason> ERROR` (for
//! example when the stream passes its `StreamMaxLength`). `zPING\0` is
//! answered with `PONG`.
//!
//! A scanner that cannot be reached, or that answers with an error, is a
//! [`ScanError`]: callers refuse the upload rather than store a file that
//! was not scanned. With the `testing` feature, [`fake::FakeClamd`] is a
//! local daemon speaking the same protocol.

use async_trait::async_trait;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What the scanner found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// Infected, with the signature's name (`Eicar-Test-Signature`).
    Infected(String),
}

/// The file could not be scanned; it must not be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The daemon could not be reached or stopped answering.
    #[error("virus scanner unavailable: {0}")]
    Unavailable(String),
    /// The daemon refused this file (too large for its stream limit, …).
    #[error("virus scanner refused the file: {0}")]
    Refused(String),
    /// The daemon said something this client does not understand.
    #[error("virus scanner answered unexpectedly: {0}")]
    Protocol(String),
}

/// Scans bytes for malware.
#[async_trait]
pub trait Scanner: Send + Sync {
    async fn scan(&self, bytes: &[u8]) -> Result<Verdict, ScanError>;

    /// Whether the scanner answers (for health checks).
    async fn ping(&self) -> Result<(), ScanError>;
}

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddr {
    /// `host:port`.
    Tcp(String),
    /// A Unix socket's path.
    Unix(PathBuf),
}

impl ClamdAddr {
    /// `tcp://host:port`, `host:port`, `unix:/path` or `/path`.
    pub fn parse(text: &str) -> Result<ClamdAddr, String> {
        let t = text.trim();
        if let Some(p) = t.strip_prefix("unix:") {
            let p = p.trim_start_matches("//");
            return if p.starts_with('/') {
                Ok(ClamdAddr::Unix(p.into()))
            } else {
                Err(format!("{t:?}: a Unix socket needs an absolute path"))
            };
        }
        if t.starts_with('/') {
            return Ok(ClamdAddr::Unix(t.into()));
        }
        let hp = t.strip_prefix("tcp://").unwrap_or(t).trim_end_matches('/');
        match hp.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => Ok(ClamdAddr::Tcp(hp.to_string())),
            _ => Err(format!("{t:?}: expected tcp://host:port, host:port, unix:/path or /path")),
        }
    }
}

impl std::fmt::Display for ClamdAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClamdAddr::Tcp(hp) => write!(f, "tcp://{hp}"),
            ClamdAddr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// A ClamAV daemon.
#[derive(Debug, Clone)]
pub struct Clamd {
    addr: ClamdAddr,
    connect_timeout: Duration,
    scan_timeout: Duration,
    chunk: usize,
}

/// Longest reply line read (signature names are short).
const MAX_REPLY: usize = 4096;

impl Clamd {
    pub fn new(addr: ClamdAddr) -> Self {
        Clamd { addr, connect_timeout: Duration::from_secs(3), scan_timeout: Duration::from_secs(60), chunk: 64 * 1024 }
    }

    /// Parses the address ([`ClamdAddr::parse`]).
    pub fn at(addr: &str) -> Result<Self, String> {
        ClamdAddr::parse(addr).map(Clamd::new)
    }

    /// How long one scan may take in all (connect, send, verdict).
    pub fn with_scan_timeout(mut self, t: Duration) -> Self {
        self.scan_timeout = t;
        self
    }

    /// Bytes per INSTREAM chunk (at least 1).
    pub fn with_chunk_size(mut self, bytes: usize) -> Self {
        self.chunk = bytes.max(1);
        self
    }

    pub fn addr(&self) -> &ClamdAddr {
        &self.addr
    }

    async fn exchange(&self, command: &[u8], body: Option<&[u8]>) -> Result<String, ScanError> {
        let down = |e: std::io::Error| ScanError::Unavailable(format!("{}: {e}", self.addr));
        let run = async {
            match &self.addr {
                ClamdAddr::Tcp(hp) => {
                    let s = tokio::time::timeout(self.connect_timeout, tokio::net::TcpStream::connect(hp.as_str()))
                        .await
                        .map_err(|_| ScanError::Unavailable(format!("{}: no answer to connect", self.addr)))?
                        .map_err(down)?;
                    let _ = s.set_nodelay(true);
                    talk(s, command, body, self.chunk).await.map_err(down)
                }
                #[cfg(unix)]
                ClamdAddr::Unix(p) => {
                    let s = tokio::time::timeout(self.connect_timeout, tokio::net::UnixStream::connect(p))
                        .await
                        .map_err(|_| ScanError::Unavailable(format!("{}: no answer to connect", self.addr)))?
                        .map_err(down)?;
                    talk(s, command, body, self.chunk).await.map_err(down)
                }
                #[cfg(not(unix))]
                ClamdAddr::Unix(_) => Err(ScanError::Unavailable("Unix sockets are not supported here".into())),
            }
        };
        tokio::time::timeout(self.scan_timeout, run)
            .await
            .map_err(|_| ScanError::Unavailable(format!("{}: no verdict within {:?}", self.addr, self.scan_timeout)))?
    }
}

/// Sends one command (and a stream) and reads the NUL-terminated reply.
async fn talk<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, command: &[u8], body: Option<&[u8]>, chunk: usize) -> std::io::Result<String> {
    s.write_all(command).await?;
    if let Some(bytes) = body {
        for part in bytes.chunks(chunk) {
            let len = u32::try_from(part.len()).map_err(|_| std::io::Error::other("chunk too large"))?;
            s.write_all(&len.to_be_bytes()).await?;
            s.write_all(part).await?;
        }
        s.write_all(&0u32.to_be_bytes()).await?;
    }
    s.flush().await?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
        if reply.contains(&0) || reply.len() > MAX_REPLY {
            break;
        }
    }
    if reply.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed without a reply"));
    }
    let end = reply.iter().position(|&b| b == 0).unwrap_or(reply.len());
    Ok(String::from_utf8_lossy(&reply[..end]).trim().to_string())
}

/// Reads clamd's answer to INSTREAM.
pub fn parse_reply(reply: &str) -> Result<Verdict, ScanError> {
    let r = reply.trim();
    // Replies to several commands on one connection are prefixed "<n>: ".
    let body = r.strip_prefix("stream:").map(str::trim);
    match body {
        Some("OK") => Ok(Verdict::Clean),
        Some(b) if b.ends_with(" FOUND") => {
            let name = b.trim_end_matches(" FOUND").trim();
            if name.is_empty() {
                Err(ScanError::Protocol(r.to_string()))
            } else {
                Ok(Verdict::Infected(name.to_string()))
            }
        }
        _ if r.ends_with("ERROR") => Err(ScanError::Refused(r.trim_end_matches("ERROR").trim().to_string())),
        _ => Err(ScanError::Protocol(r.to_string())),
    }
}

#[async_trait]
impl Scanner for Clamd {
    async fn scan(&self, bytes: &[u8]) -> Result<Verdict, ScanError> {
        let reply = self.exchange(b"zINSTREAM\0", Some(bytes)).await?;
        parse_reply(&reply)
    }

    async fn ping(&self) -> Result<(), ScanError> {
        match self.exchange(b"zPING\0", None).await?.as_str() {
            "PONG" => Ok(()),
            other => Err(ScanError::Protocol(other.to_string())),
        }
    }
}

#[cfg(feature = "testing")]
pub mod fake {
    //! A local clamd for tests: it speaks `PING` and `INSTREAM` (NUL- or
    //! newline-terminated commands, chunked streams, a stream limit) and
    //! finds the signatures it is given, byte for byte.

    use std::net::SocketAddr;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// The EICAR anti-virus test file, put together at run time so no copy
    /// sits in the source (every scanner, ClamAV's test signatures
    /// included, recognises it; it does nothing).
    pub fn eicar() -> Vec<u8> {
        let parts = ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS", "-TEST-FILE!$H+H*"];
        parts.concat().into_bytes()
    }

    /// A running fake daemon on loopback; stopped when dropped.
    pub struct FakeClamd {
        pub addr: SocketAddr,
        task: tokio::task::JoinHandle<()>,
    }

    impl FakeClamd {
        /// Starts a daemon that knows EICAR as `Eicar-Test-Signature`, with
        /// a 25 MB stream limit.
        pub async fn start() -> FakeClamd {
            Self::with(vec![(eicar(), "Eicar-Test-Signature".into())], 25 * 1024 * 1024).await
        }

        pub async fn with(signatures: Vec<(Vec<u8>, String)>, max_stream: usize) -> FakeClamd {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind fake clamd");
            let addr = listener.local_addr().expect("address");
            let sigs = Arc::new(signatures);
            let task = tokio::spawn(async move {
                while let Ok((s, _)) = listener.accept().await {
                    tokio::spawn(serve(s, sigs.clone(), max_stream));
                }
            });
            FakeClamd { addr, task }
        }

        /// `tcp://127.0.0.1:<port>`.
        pub fn url(&self) -> String {
            format!("tcp://{}", self.addr)
        }

        /// Stops listening; later connections are refused.
        pub fn stop(&self) {
            self.task.abort();
        }
    }

    impl Drop for FakeClamd {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    async fn serve(mut s: TcpStream, sigs: Arc<Vec<(Vec<u8>, String)>>, max_stream: usize) {
        let mut cmd = Vec::new();
        let mut b = [0u8; 1];
        let term = loop {
            match s.read(&mut b).await {
                Ok(1) if b[0] == 0 || b[0] == b'\n' => break b[0],
                Ok(1) if cmd.len() < 64 => cmd.push(b[0]),
                _ => return,
            }
        };
        let cmd = String::from_utf8_lossy(&cmd).to_string();
        let reply = match cmd.as_str() {
            "zPING" | "nPING" => "PONG".to_string(),
            "zINSTREAM" | "nINSTREAM" => {
                let mut data = Vec::new();
                loop {
                    let mut len = [0u8; 4];
                    if s.read_exact(&mut len).await.is_err() {
                        return;
                    }
                    let n = u32::from_be_bytes(len) as usize;
                    if n == 0 {
                        break;
                    }
                    if data.len() + n > max_stream {
                        let _ = s.write_all(b"INSTREAM size limit exceeded. ERROR\0").await;
                        return;
                    }
                    let start = data.len();
                    data.resize(start + n, 0);
                    if s.read_exact(&mut data[start..]).await.is_err() {
                        return;
                    }
                }
                match sigs.iter().find(|(sig, _)| !sig.is_empty() && data.windows(sig.len()).any(|w| w == sig.as_slice())) {
                    Some((_, name)) => format!("stream: {name} FOUND"),
                    None => "stream: OK".to_string(),
                }
            }
            _ => "UNKNOWN COMMAND".to_string(),
        };
        let end = if term == 0 { "\0" } else { "\n" };
        let _ = s.write_all(format!("{reply}{end}").as_bytes()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse() {
        let cases: Vec<(&str, Result<ClamdAddr, ()>)> = vec![
            ("tcp://127.0.0.1:3310", Ok(ClamdAddr::Tcp("127.0.0.1:3310".into()))),
            ("127.0.0.1:3310", Ok(ClamdAddr::Tcp("127.0.0.1:3310".into()))),
            ("localhost:1", Ok(ClamdAddr::Tcp("localhost:1".into()))),
            ("unix:/run/clamav/clamd.ctl", Ok(ClamdAddr::Unix("/run/clamav/clamd.ctl".into()))),
            ("unix:///run/clamd.sock", Ok(ClamdAddr::Unix("/run/clamd.sock".into()))),
            ("/tmp/c.sock", Ok(ClamdAddr::Unix("/tmp/c.sock".into()))),
            ("unix:relative", Err(())),
            ("127.0.0.1", Err(())),
            ("127.0.0.1:0", Err(())),
            ("127.0.0.1:99999", Err(())),
            (":3310", Err(())),
        ];
        for (text, want) in cases {
            assert_eq!(ClamdAddr::parse(text).map_err(|_| ()), want, "{text}");
        }
        assert_eq!(ClamdAddr::parse("unix:/a").unwrap().to_string(), "unix:/a");
        assert_eq!(ClamdAddr::parse("h:5").unwrap().to_string(), "tcp://h:5");
    }

    #[test]
    fn replies_parse() {
        let cases: Vec<(&str, Result<Verdict, ScanError>)> = vec![
            ("stream: OK", Ok(Verdict::Clean)),
            ("stream: Eicar-Test-Signature FOUND", Ok(Verdict::Infected("Eicar-Test-Signature".into()))),
            ("stream: Win.Test.EICAR_HDB-1 FOUND", Ok(Verdict::Infected("Win.Test.EICAR_HDB-1".into()))),
            ("INSTREAM size limit exceeded. ERROR", Err(ScanError::Refused("INSTREAM size limit exceeded.".into()))),
            ("stream:  FOUND", Err(ScanError::Protocol("stream:  FOUND".into()))),
            ("PONG", Err(ScanError::Protocol("PONG".into()))),
            ("", Err(ScanError::Protocol(String::new()))),
        ];
        for (reply, want) in cases {
            assert_eq!(parse_reply(reply), want, "{reply:?}");
        }
    }
}
