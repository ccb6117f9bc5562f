//! The `fantooo-bench` command; everything lives in the library so the test
//! suite can drive the same code in-process.

use fantooo_bench::{run, Args, Parser};

/// mimalloc instead of glibc's malloc: glibc's allocator was about a
/// quarter of a busy server's CPU in Rooms' profile (README "Rooms
/// benchmarks"); every product's server and bench use the same.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    match run(Args::parse()).await {
        Ok(clean) => std::process::exit(if clean { 0 } else { 1 }),
        Err(e) => {
            eprintln!("bench failed: {e}");
            std::process::exit(2);
        }
    }
}
