//! Request counters and latency histograms for /metrics.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// The metric name prefix (the product's name), as the layer's state.
#[derive(Clone, Copy)]
pub struct MetricsPrefix(pub &'static str);

/// Counts requests and records their latency by route template.
pub async fn track(State(MetricsPrefix(prefix)): State<MetricsPrefix>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    // The route template, not the raw path, keeps label cardinality bounded.
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!(format!("{prefix}_http_requests_total"), "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(format!("{prefix}_http_request_duration_seconds"), "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}
