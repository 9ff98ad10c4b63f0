//! celltrace's domain: the entities of the vein-to-vein path, the commands
//! people issue, the events that result, and the rules between them
//! (`decide` and `State::apply`). Pure: no I/O, no clock, no database.

pub mod access;
pub mod command;
pub mod decide;
pub mod event;
pub mod ids;
pub mod index;
pub mod lookback;
pub mod model;
pub mod reference;
pub mod state;
pub mod temperature;
pub mod time;

pub use command::{Actor, Command, NewUnit, Submission};
pub use decide::{bedside_checks, decide, evidence_still_allows, BedsideCheck, Rejection, RejectionCode};
pub use event::Event;
pub use reference::{EvidenceRules, RatedUse, Reference, ReferenceData, ScoredAnswers, TimePointWindow};
pub use state::{Claim, EntityKey, EntityKind, Lookup, Projection, ProjectionRow, State};
