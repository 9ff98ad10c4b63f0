//! The celltrace application: configuration, the signing key, the HTTP
//! server, the demo dataset and the benchmark, wired by `main.rs`.

pub mod bench;
pub mod config;
pub mod demo;
pub mod isbt;
pub mod keys;
pub mod products;
pub mod server;
