//! The path forms moved to [`crate::staff::forms`]; the links the patient
//! and unit pages show are re-exported here for the pages that still name
//! this module.

pub use crate::staff::forms::links::{plan_links, unit_links};
