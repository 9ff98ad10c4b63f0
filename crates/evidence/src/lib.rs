//! The evidence guard's data: which (indication, product type) pairs are
//! approved, investigational, unproven or research-only, with a plain summary
//! for patients and the sources, plus the regulator-approved products.
//!
//! Pure: no I/O, no async. [`EvidenceData::parse`] takes the text of the three
//! data files (`data/evidence/indications.toml`, `status.toml`,
//! `approved_products.toml`) and either returns the checked data or an
//! [`EvidenceError`] naming the file, line and field at fault. No input makes
//! it panic. [`EvidenceData::shipped`] parses the copies compiled into the
//! crate.
//!
//! [`EvidenceData::rating`] gives the domain's
//! [`EvidenceRating`](celltrace_domain::model::EvidenceRating) for a plan; the
//! domain (`celltrace_domain::decide::evidence_block`) then decides whether the
//! plan proceeds or is blocked.
#![forbid(unsafe_code)]

mod data;
mod error;
mod raw;

pub use data::{
    parse_product_type, ApprovedProduct, CodeSource, EvidenceData, IndicationEntry, ProductStatus,
    RuleMatch, StatusRule, PRODUCT_TYPES,
};
pub use error::{DataFile, EvidenceError};

/// The shipped `indications.toml`.
pub const SHIPPED_INDICATIONS: &str = include_str!("../../../data/evidence/indications.toml");
/// The shipped `status.toml`.
pub const SHIPPED_STATUS: &str = include_str!("../../../data/evidence/status.toml");
/// The shipped `approved_products.toml`.
pub const SHIPPED_PRODUCTS: &str = include_str!("../../../data/evidence/approved_products.toml");
