//! The staff web application, one module per feature: each lists its
//! routes (see `routes`), reads through the read-only `Reader`, and turns
//! every failure into an `AppError`.

pub mod lookback;
pub mod registry;
