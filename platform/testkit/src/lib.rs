//! Helpers for tests only (a dev-dependency of the products): a router
//! served on a loopback port ([`serve`]), headless Chromium through
//! chromedriver ([`browser`]), multipart upload bodies ([`form`]), and the
//! SQL statements a piece of work runs ([`statements`]).

pub mod browser;
pub mod form;
pub mod statements;
pub mod static_files;

pub use form::multipart;

use std::net::SocketAddr;

/// Serves `router` on a free loopback port (with the client's address as
/// `ConnectInfo`, as the real server gives it) until the test ends, and
/// returns the address.
pub async fn serve(router: axum::Router) -> SocketAddr {
    serve_on(tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port"), router)
}

/// [`serve`] on a listener bound already (for an app that must know its
/// own address before it is built, such as a payment provider's return
/// URL).
pub fn serve_on(listener: tokio::net::TcpListener, router: axum::Router) -> SocketAddr {
    let addr = listener.local_addr().expect("the bound address");
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.expect("serving the test router");
    });
    addr
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ConnectInfo;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn serves_the_router_with_the_client_address() {
        let router =
            axum::Router::new().route("/who", get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }));
        let addr = serve(router).await;
        assert!(addr.ip().is_loopback());
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /who HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("127.0.0.1"), "{answer}");
    }
}
