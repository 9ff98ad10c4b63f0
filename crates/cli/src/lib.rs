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
