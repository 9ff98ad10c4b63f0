//! Cellular-therapy unit labels (placeholder while the crate is being built).
#![forbid(unsafe_code)]
