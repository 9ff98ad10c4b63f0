//! `celltrace bench`: figures of the command path (`writes`: durable events
//! per second beside raw SQLite) and of the read side (`reads`: p50/p99 of
//! each page, API and FHIR read at growing dataset sizes, beside the bare
//! HTTP round trip and the store query). Figures, not assertions: machines
//! differ, ratios travel.

pub mod dataset;
pub mod load;
pub mod reads;
pub mod writes;

/// What to measure.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCmd {
    /// Durable events per second through the command path, beside raw SQLite.
    Writes(writes::BenchArgs),
    /// Read latencies at 10k, 100k and 1M units (by default), beside HTTP and store limits.
    Reads(reads::ReadArgs),
}

/// Runs the chosen benchmark.
pub async fn run(what: BenchCmd) -> Result<(), String> {
    match what {
        BenchCmd::Writes(args) => writes::run(args).await,
        BenchCmd::Reads(args) => reads::run(args).await,
    }
}
