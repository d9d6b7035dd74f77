//! The `entra-airsync` binary: parse the command line, set up logging, hand over to the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn init_logging(default_level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let json = match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().flatten_event(true).with_current_span(true).init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    use entra_airsync::cli::Command;
    let cli = entra_airsync::cli::Cli::parse();
    // The demo prints its own summary; its logs stay at warnings unless RUST_LOG asks for more.
    let default_level = match cli.command {
        Command::Demo(_) | Command::Check(_) => "warn",
        _ => "info",
    };
    init_logging(default_level);
    // The worker waits on Graph far more than it computes (about 2 % of one core on the large preset), so
    // one thread runs every sync it serves: no work-stealing pool, no second thread's allocator arenas
    // (large full: the same CPU, 46.7 → 40.6 MiB peak RSS; BENCHMARKS.md). The simulators and the bench
    // keep a thread per core.
    let mut builder = match cli.command {
        Command::Serve(_) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    match builder.enable_all().build() {
        Ok(runtime) => runtime.block_on(entra_airsync::cli::run(cli)),
        Err(e) => {
            eprintln!("error: the async runtime could not start: {e}");
            ExitCode::FAILURE
        }
    }
}

/// jemalloc: the worker allocates and frees millions of small JSON values per sync, and glibc's malloc
/// spent a third of its CPU doing so (perf, medium preset). Same-run A/B on `bench --preset medium --mode
/// full`: 9.34 → 8.08 µs per object, peak RSS 50.5 → 51.9 MiB. (mimalloc cost 40 MiB more RSS.)
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
