//! The staff web application, one module per feature: each lists its
//! routes (see `routes`), reads through the read-only `Reader`, and turns
//! every failure into an `AppError`.

pub mod accounts;
pub mod adverse_events;
pub mod audit;
pub mod batch;
pub mod bedside;
pub mod dashboard;
pub mod evidence;
pub mod forms;
pub mod labels;
pub mod ledger;
pub mod lineage;
pub mod lookback;
pub mod patients;
pub mod registry;
pub mod signin;
pub mod units;
