//! Reference data the rules consult that is not a record of this deployment:
//! the evidence guard's ratings, the follow-up schedules, the questionnaire
//! instruments, the CTCAE terms and the consent templates. celltrace ships
//! them as data files (`celltrace-reference` implements [`Reference`]);
//! an administrator may replace the evidence data (an `EvidenceDataLoaded`
//! event), so the ratings in force depend on the state.
//!
//! The domain stays pure: it sees the data through these traits, and a test
//! can give it a small table of its own.

use crate::model::{EvidenceDataset, EvidenceRating, Indication, ProductType};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A use of a product type for an indication as the evidence data rates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatedUse {
    /// The indication as the data names it (its code as given, the data's name).
    pub indication: Indication,
    /// The rating, with its sources and the data's version.
    pub rating: EvidenceRating,
}

/// The evidence guard's data in force.
pub trait EvidenceRules: Send + Sync {
    /// The data's version, recorded with every rating.
    fn version(&self) -> &str;
    /// Rates `product_type` for the condition with ICD-10-CM code `icd10`,
    /// or says why the code is not known.
    fn rate(&self, icd10: &str, product_type: ProductType) -> Result<RatedUse, String>;
}

/// Where a follow-up time point's answers are accepted, in days relative to
/// the plan's first administration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePointWindow {
    /// Before treatment: from the plan's creation until the day of the
    /// first administration (inclusive).
    Baseline,
    /// After treatment: from `opens` to `closes` days after the day of the
    /// first administration, both inclusive.
    AfterTreatment {
        /// First day, counted from the administration day.
        opens: i64,
        /// Last day, counted from the administration day.
        closes: i64,
    },
}

/// Answers checked against an instrument and scored by its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoredAnswers {
    /// The instrument definition's version.
    pub version: String,
    /// Registry score name → score in thousandths, or none when not scorable.
    pub scores: BTreeMap<String, Option<i64>>,
}

/// Everything the rules look up.
pub trait Reference: Send + Sync {
    /// The evidence rules in force: the shipped data, or `loaded` when an
    /// administrator replaced it. An error says why the data cannot be read.
    fn evidence(&self, loaded: Option<&EvidenceDataset>) -> Result<Arc<dyn EvidenceRules>, String>;
    /// Checks evidence data before it is loaded: its version, or why it is refused.
    fn check_evidence(&self, indications: &str, status: &str, approved_products: &str) -> Result<String, String>;
    /// The window of `time_point` in the follow-up schedule of `product_type`.
    fn time_point(&self, product_type: ProductType, time_point: &str) -> Option<TimePointWindow>;
    /// The time points of the schedule of `product_type`, for messages.
    fn time_points(&self, product_type: ProductType) -> Vec<String>;
    /// Checks `answers` against the instrument `instrument` and scores them;
    /// an error says which answer is wrong.
    fn score(&self, instrument: &str, answers: &BTreeMap<String, u8>) -> Result<ScoredAnswers, String>;
    /// Whether `instrument` is asked at `time_point` for `product_type`.
    fn asks(&self, product_type: ProductType, time_point: &str, instrument: &str) -> bool;
    /// Checks a CTCAE v5.0 term and grade; an error names the valid grades or says the term is unknown.
    fn adverse_event_term(&self, term: &str, grade: u8) -> Result<(), String>;
    /// Whether a consent template of this name and version is shipped.
    fn consent_template(&self, template: &str, version: &str) -> bool;
}

/// The reference data handed to the rules, inside the state. Compares and
/// prints by presence only: it is configuration, not a record.
#[derive(Clone, Default)]
pub struct ReferenceData(pub Option<Arc<dyn Reference>>);

impl ReferenceData {
    /// Reference data from an implementation.
    pub fn new(reference: Arc<dyn Reference>) -> ReferenceData {
        ReferenceData(Some(reference))
    }

    /// The data, when any was given.
    pub fn get(&self) -> Option<&Arc<dyn Reference>> {
        self.0.as_ref()
    }
}

impl fmt::Debug for ReferenceData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "ReferenceData(given)" } else { "ReferenceData(none)" })
    }
}

impl PartialEq for ReferenceData {
    fn eq(&self, other: &Self) -> bool {
        self.0.is_some() == other.0.is_some()
    }
}
