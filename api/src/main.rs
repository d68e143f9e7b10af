//! `probono`: the Pro Bono Ledger server and its administration commands (`api::cli`).

// The server allocates many short-lived buffers per request; glibc malloc showed up at
// ~17% of CPU in the benchmark profile (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    api::cli::main()
}
