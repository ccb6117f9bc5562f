//! `gigstream-bench`: GigStream's benchmarks, over real sockets against a
//! `gigstream serve` process (see `scripts/bench-gigstream`):
//!
//! - `search`: 100,000 gigs seeded with set-based SQL, then `GET
//!   /api/v1/search` (hits, total and every facet) at a fixed offered rate
//!   (open loop: each request is timed from when it was due, so a slow
//!   server cannot slow the load down and hide its own queue).
//! - `orders`: many buyers at once each place an order, pay it (a signed
//!   Stripe `checkout.session.completed` webhook → escrow credited), submit
//!   requirements, get a delivery and accept it (→ escrow released to the
//!   seller); throughput and latencies, then `gigstream check`.

mod orders;
mod search;
mod seed;
mod server;
mod stats;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: glibc's allocator was about a
/// quarter of a busy server's CPU in Rooms' profile (README "Rooms
/// benchmarks"); every product's server and bench use the same.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "gigstream-bench", about = "GigStream benchmarks over real sockets")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Search over 100,000 gigs with facets at a fixed offered rate.
    Search(search::Args),
    /// Checkout webhook → escrow and acceptance → release under many concurrent orders.
    Orders(orders::Args),
}

pub type Fail = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    let result = match Cli::parse().command {
        Command::Search(a) => search::run(a).await,
        Command::Orders(a) => orders::run(a).await,
    };
    if let Err(e) = result {
        eprintln!("bench failed: {e}");
        std::process::exit(2);
    }
}
