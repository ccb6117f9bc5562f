//! The HTTP/1 server under the router.
//!
//! `axum::serve` sets no header read timeout, so a client that trickles its
//! request head a byte at a time (slowloris) holds a connection and a task
//! for as long as it likes. Here hyper's connection builder gets a timer and
//! a deadline for the request line and headers; past it the connection is
//! closed. A semaphore caps open connections — the permit travels with the
//! socket, so upgraded WebSockets count until they close — and shutdown
//! stops accepting, then lets in-flight requests finish.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy)]
pub struct ServerConfig {
    /// How long a client has to send a complete request line and headers.
    pub header_read_timeout: Duration,
    /// Open connections (WebSockets included) above which accepting pauses.
    pub max_connections: usize,
    /// How long shutdown waits for in-flight requests before giving up.
    pub drain_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { header_read_timeout: Duration::from_secs(10), max_connections: 50_000, drain_timeout: Duration::from_secs(30) }
    }
}

/// Serves `app` on `listener` until `shutdown` completes. Handlers see the
/// peer address as `ConnectInfo<SocketAddr>`, as with
/// `into_make_service_with_connect_info`.
pub async fn serve(listener: TcpListener, app: Router, config: ServerConfig, shutdown: impl Future<Output = ()> + Send) -> io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(config.header_read_timeout);
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    // Every connection task holds a receiver: `send` asks them to finish,
    // and `closed` resolves once the last one has.
    let (stopping, stop_signal) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        // Waiting for a free slot before accepting leaves excess clients in
        // the kernel's backlog instead of spending a task on each.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => { pause_after_accept_error(e).await; continue; }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Counted { stream, _permit: permit });
        let conn = http.serve_connection(io, service_for(app.clone(), peer)).with_upgrades();
        let mut stop_signal = stop_signal.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            let ended = tokio::select! {
                r = conn.as_mut() => r,
                _ = stop_signal.changed() => {
                    // Finish the request in flight, then close instead of keeping alive.
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                // Timeouts, resets and malformed requests: the client's doing.
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    drop(stop_signal);
    let _ = stopping.send(());
    tokio::select! {
        () = stopping.closed() => {}
        () = tokio::time::sleep(config.drain_timeout) => tracing::warn!("shutdown: gave up waiting for in-flight requests"),
    }
    Ok(())
}

/// The router with the peer's address attached to every request.
fn service_for(
    app: Router,
    peer: SocketAddr,
) -> TowerToHyperService<
    impl tower::Service<hyper::Request<Incoming>, Response = axum::response::Response, Error = std::convert::Infallible, Future: Send> + Clone,
> {
    TowerToHyperService::new(tower::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(req.map(axum::body::Body::new))
    }))
}

/// Running out of file descriptors makes `accept` fail at once; retrying in
/// a tight loop would spin a core, so wait a moment as axum::serve does.
async fn pause_after_accept_error(e: io::Error) {
    let refused_by_peer =
        matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused);
    if !refused_by_peer {
        tracing::warn!(error = %e, "accept failed");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A socket holding one connection slot, released when the socket is
/// dropped — after the response, or when an upgraded WebSocket closes.
struct Counted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
