//! The celltrace application: configuration, the signing key, the demo
//! dataset, labels, the ISBT 128 tools and the benchmark, wired by `main.rs`
//! around the web adapter (`celltrace-web`).

pub mod bench;
pub mod config;
pub mod demo;
pub mod isbt;
pub mod keys;
pub mod label;
pub mod evidence;
pub mod import;
pub mod products;
pub mod tokens;
pub mod witness;

use std::sync::{Arc, OnceLock};

/// The reference data the rules consult, as shipped with this build, parsed once per process.
///
/// # Errors
/// The data file and the problem, if a shipped file does not parse.
pub fn reference() -> Result<Arc<celltrace_reference::ReferenceData>, String> {
    static SHIPPED: OnceLock<Result<Arc<celltrace_reference::ReferenceData>, String>> = OnceLock::new();
    SHIPPED.get_or_init(|| celltrace_reference::ReferenceData::shipped().map(Arc::new)).clone()
}

/// Engine options with `key` and the shipped reference data.
///
/// # Errors
/// As [`reference`].
pub fn engine_options(key: celltrace_ledger::SigningKey) -> Result<celltrace_store::EngineOptions, String> {
    Ok(celltrace_store::EngineOptions::new(key, reference()?))
}

/// The web application's state over `engine`, reached at `public_url`, with
/// the shipped reference data and the default limits.
///
/// # Errors
/// As [`reference`].
pub fn web_state(engine: celltrace_store::Engine, public_url: &str) -> Result<celltrace_web::AppState, String> {
    Ok(celltrace_web::AppState { engine, reference: reference()?, config: Arc::new(celltrace_web::WebConfig::new(public_url)), registry: Default::default() })
}
