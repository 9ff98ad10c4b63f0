//! CSV import of existing records: patients and donors, collected units with
//! their ISBT 128 identifiers, and questionnaire answers, each row turned into
//! the domain command that records it. Pure: text in, commands or errors out.
//!
//! Every problem is reported with its line, its column and what to change,
//! and all of them are collected, so a clinic fixes its spreadsheet in one go.

mod answers;
mod fields;
mod patients;
mod table;
mod units;

pub use answers::{instruments, registry_scores};

use celltrace_domain::ids::PlanId;
use celltrace_domain::model::Language;
use celltrace_domain::{Command, Rejection, RejectionCode};
use std::fmt;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Patients and donors (`RegisterPerson`).
    Patients,
    /// Collected units (`RecordCollection`).
    Units,
    /// Questionnaire answers (`AnswerQuestionnaire`).
    Answers,
}

impl Kind {
    /// Every kind, in the order a clinic imports them.
    pub const ALL: [Kind; 3] = [Kind::Patients, Kind::Units, Kind::Answers];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Patients => "patients",
            Kind::Units => "units",
            Kind::Answers => "answers",
        }
    }

    /// `patients`, `units` or `answers`.
    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text.trim().to_ascii_lowercase())
    }

    /// The columns a file of this kind must have.
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            Kind::Patients => patients::REQUIRED,
            Kind::Units => units::REQUIRED,
            Kind::Answers => answers::REQUIRED,
        }
    }

    /// The columns it may have besides (answers also take `item:<id>` columns).
    pub fn optional_columns(self) -> &'static [&'static str] {
        match self {
            Kind::Patients => patients::OPTIONAL,
            Kind::Units => units::OPTIONAL,
            Kind::Answers => answers::OPTIONAL,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One good row: the command it becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Line of the file the row starts on (the header is line 1).
    pub line: u64,
    /// The command recording it.
    pub command: Command,
    /// The file gave no language for these answers: the questions were shown
    /// in the patient's preferred language, which only the records know
    /// (see [`Row::set_patient_language`]).
    pub language_from_patient: bool,
    /// The file named the answers' visit; otherwise the id is a placeholder
    /// (`q-<time point>-<instrument>`) the adapter may replace with a fresh one
    /// (see [`Row::replace_visit`]).
    pub visit_from_file: bool,
}

impl Row {
    /// The plan whose patient's language the answers take, if the file gave none.
    pub fn plan_needing_language(&self) -> Option<&PlanId> {
        match &self.command {
            Command::AnswerQuestionnaire { plan, .. } if self.language_from_patient => Some(plan),
            _ => None,
        }
    }

    /// Records the patient's preferred language as the one the questions were shown in.
    pub fn set_patient_language(&mut self, patient_language: Language) {
        if let Command::AnswerQuestionnaire { language, .. } = &mut self.command {
            *language = patient_language;
            self.language_from_patient = false;
        }
    }

    /// Gives answers whose file named no visit the id `new_visit`, so that
    /// identifiers are unique like those the web forms make; a named visit is kept.
    pub fn replace_visit(&mut self, new_visit: celltrace_domain::ids::VisitId) {
        if let Command::AnswerQuestionnaire { visit, .. } = &mut self.command {
            if !self.visit_from_file {
                *visit = new_visit;
            }
        }
    }
}

/// A problem with the file, a row or one value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line of the file (1 for the header).
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// What is wrong and what to change.
    pub message: String,
    /// The rules' code when the rules refused the row's command (the same
    /// code every other entry path answers with); `None` for what the file
    /// itself gets wrong.
    pub code: Option<RejectionCode>,
}

impl RowError {
    pub(crate) fn new(line: u64, column: Option<&str>, message: impl Into<String>) -> RowError {
        RowError { line, column: column.map(str::to_owned), message: message.into(), code: None }
    }

    /// The rules' refusal of the command of the row at `line`.
    pub fn refused(line: u64, rejection: Rejection) -> RowError {
        RowError { line, column: None, message: rejection.message, code: Some(rejection.code) }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column {}: {}", self.line, column, self.message)?,
            None => write!(f, "line {}: {}", self.line, self.message)?,
        }
        match self.code {
            Some(code) => write!(f, " [{code}]"),
            None => Ok(()),
        }
    }
}

/// What a file became: the good rows and every error found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// Rows that read cleanly, in file order.
    pub rows: Vec<Row>,
    /// Every problem, in file order; a row with several bad values has several.
    pub errors: Vec<RowError>,
    /// Data rows in the file, good or bad.
    pub row_count: usize,
}

impl Parsed {
    /// Lines of the rows that had at least one error.
    pub fn bad_lines(&self) -> std::collections::BTreeSet<u64> {
        self.errors.iter().map(|e| e.line).collect()
    }
}

/// Reads `text` as a CSV file of `kind` (header row first, comma separated,
/// UTF-8). Never panics; a file with no data rows is an error.
pub fn parse(kind: Kind, text: &str) -> Parsed {
    let mut table = table::Table::read(kind, text);
    let mut parsed = Parsed { rows: Vec::new(), errors: std::mem::take(&mut table.errors), row_count: table.row_count };
    if !table.usable {
        return parsed;
    }
    for record in &table.records {
        let mut row_errors = Vec::new();
        let command = {
            let mut cells = table::Cells::new(&table, record, &mut row_errors);
            match kind {
                Kind::Patients => patients::command(&mut cells).map(|c| (c, false, false)),
                Kind::Units => units::command(&mut cells).map(|c| (c, false, false)),
                Kind::Answers => answers::command(&mut cells),
            }
        };
        match command {
            Some((command, language_from_patient, visit_from_file)) if row_errors.is_empty() => {
                parsed.rows.push(Row { line: record.line, command, language_from_patient, visit_from_file });
            }
            _ => parsed.errors.extend(row_errors),
        }
    }
    // Reading and checking find errors in two passes; people read them in file order.
    parsed.errors.sort_by_key(|e| e.line);
    if parsed.row_count == 0 && parsed.errors.is_empty() {
        parsed.errors.push(RowError::new(1, None, "the file has a header but no rows; add one row per record below it"));
    }
    parsed
}

#[cfg(test)]
mod tests;
