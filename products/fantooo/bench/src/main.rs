//! The `fantooo-bench` command; everything lives in the library so the test
//! suite can drive the same code in-process.

use fantooo_bench::{run, Args, Parser};

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
