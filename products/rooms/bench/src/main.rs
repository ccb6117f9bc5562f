//! `rooms-bench`: Rooms' benchmarks, each over real sockets against real
//! processes (see `scripts/bench-rooms`):
//!
//! - `fanout`: a `rooms serve` process, one room at its capacity of 1,000
//!   people, each holding the room's WebSocket; 16 of them take and leave
//!   the 15 seats and chat; the time from each seat or chat event to every
//!   socket.
//! - `join`: a listener joins a room's audio on Janus again and again (fresh
//!   pass and page in headless Chromium) while a seated speaker talks: from
//!   `join()` to the first inbound audio packet.
//! - `janus`: Janus's CPU and memory in one AudioBridge room as WebRTC
//!   listeners are added (many peer connections in one Chromium page, on
//!   one Janus session).
//! - `gifts`: gifts into one hot room from 1,000 senders over HTTP while
//!   listeners hold the room's WebSocket: gifts a second, request → `gift`
//!   event at every listener, and the totals checked exactly afterwards.
//! - `boards`: leaderboard pages and the reader's own rank, read over HTTP
//!   with 1,000,000 gift records in the store.

mod boards;
mod fanout;
mod gifts;
mod listen;
mod pgwatch;
mod server;
mod stats;
mod voice;

use clap::{Parser, Subcommand};

/// mimalloc, as in the `rooms` binary: the listeners parse every gift
/// frame, and glibc's malloc was much of the bench's own CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "rooms-bench", about = "Rooms benchmarks over real sockets")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// One room, 1,000 WebSockets, 16 speakers changing seats and chatting.
    Fanout(fanout::Args),
    /// Join click to first inbound audio packet (Janus + headless Chromium).
    Join(voice::JoinArgs),
    /// Janus CPU and memory per WebRTC listener in one AudioBridge room.
    Janus(voice::JanusArgs),
    /// Gifts into one hot room from many senders over HTTP, with WebSocket listeners.
    Gifts(gifts::Args),
    /// Leaderboard reads with 1,000,000 gift records in the store.
    Boards(boards::Args),
}

pub type Fail = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    let result = match Cli::parse().command {
        Command::Fanout(a) => fanout::run(a).await,
        Command::Join(a) => voice::join(a).await,
        Command::Janus(a) => voice::janus(a).await,
        Command::Gifts(a) => gifts::run(a).await,
        Command::Boards(a) => boards::run(a).await,
    };
    if let Err(e) = result {
        eprintln!("bench failed: {e}");
        std::process::exit(2);
    }
}
