//! Outcomes registry for celltrace: questionnaire instruments as data,
//! scoring with the instruments' missing-item rules, and the registry's
//! statistics (change from baseline, responders, adverse events,
//! time to first adverse event).
//!
//! Pure: no I/O, no async. Functions take text or data and return values;
//! no input makes them panic.
//!
//! - [`parse_instrument`] reads an instrument definition (TOML, see
//!   `data/instruments/`) and reports the line and field of any error.
//! - [`score`] turns answers into total and subscale scores.
//! - [`stats::report`] computes the registry report and
//!   [`stats::public_export`] the publishable aggregate with small cells
//!   suppressed.
//! - [`parse_schedule`] reads a follow-up schedule (TOML) and
//!   [`schedule::status`] says which questionnaires are due, overdue or missed.
#![forbid(unsafe_code)]

pub mod ctcae;
pub mod dist;
pub mod instrument;
pub mod schedule;
pub mod scoring;
pub mod shipped;
pub mod stats;
mod toml_text;

pub use instrument::{
    parse_instrument, AnswerOption, Direction, Instrument, InstrumentError, Item, Mcid,
    ScoringKind, Subscale,
};
pub use schedule::{
    parse_schedule, Day, Schedule, ScheduleError, TimePoint, TimePointStatus, Timing, VisitState,
};
pub use scoring::{score, validate_answers, NotScored, Score, ScoreError, Scores};
pub use stats::{
    kaplan_meier, mean_ci, public_export, report, wilson, AdverseEvent, Cell, GroupKey,
    GroupReport, KaplanMeier, KmStep, MeanCi, PatientRecord, Proportion, Report, ReportConfig,
    MIN_CELL_PATIENTS,
};
