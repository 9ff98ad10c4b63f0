//! The CSV layer: the header checked once against what the kind expects, and
//! each record's cells by column name with the line it started on.

use crate::{answers, Kind, RowError};
use std::collections::BTreeMap;

pub(crate) struct Record {
    pub line: u64,
    pub cells: Vec<String>,
}

pub(crate) struct Table {
    /// Column name → position in a record.
    pub columns: BTreeMap<String, usize>,
    pub records: Vec<Record>,
    /// Data rows met, including those that could not be split into cells.
    pub row_count: usize,
    pub errors: Vec<RowError>,
    /// False when a required column is missing: every row would fail the same way.
    pub usable: bool,
}

/// Header names are matched without regard to case or surrounding spaces,
/// except an item id after `item:`, which is the instrument's own spelling.
fn normalise_header(name: &str) -> String {
    let name = name.trim();
    match name.split_once(':') {
        Some((prefix, item)) if prefix.trim().eq_ignore_ascii_case("item") => format!("item:{}", item.trim()),
        _ => name.to_ascii_lowercase().replace([' ', '-'], "_"),
    }
}

impl Table {
    pub fn read(kind: Kind, text: &str) -> Table {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(text.as_bytes());
        let mut table = Table { columns: BTreeMap::new(), records: Vec::new(), row_count: 0, errors: Vec::new(), usable: true };
        let headers: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(normalise_header).collect(),
            Err(e) => {
                table.errors.push(RowError::new(1, None, format!("the header row cannot be read: {e}")));
                table.usable = false;
                return table;
            }
        };
        table.check_header(kind, &headers);
        let width = headers.len();
        for record in reader.records() {
            match record {
                Ok(r) => {
                    let line = r.position().map(|p| p.line()).unwrap_or(0);
                    if r.iter().all(|c| c.trim().is_empty()) {
                        continue; // a spreadsheet's trailing ",,,," rows
                    }
                    table.row_count += 1;
                    if r.len() != width {
                        table.errors.push(RowError::new(
                            line,
                            None,
                            format!(
                                "expected {width} values (one per header column), found {}; quote a value that contains a comma, e.g. \"Doe, Jane\"",
                                r.len()
                            ),
                        ));
                        continue;
                    }
                    table.records.push(Record { line, cells: r.iter().map(|c| c.trim().to_owned()).collect() });
                }
                Err(e) => {
                    table.row_count += 1;
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    let reason = match e.kind() {
                        csv::ErrorKind::Utf8 { .. } => "the text is not UTF-8; save the spreadsheet as \"CSV UTF-8\"".to_owned(),
                        _ => format!("cannot be read as CSV: {e}"),
                    };
                    table.errors.push(RowError::new(line, None, reason));
                }
            }
        }
        table
    }

    fn check_header(&mut self, kind: Kind, headers: &[String]) {
        let mut unknown = Vec::new();
        let mut repeated = Vec::new();
        for (position, name) in headers.iter().enumerate() {
            let known = kind.required_columns().contains(&name.as_str())
                || kind.optional_columns().contains(&name.as_str())
                || (kind == Kind::Answers && answers::is_item_column(name));
            if !known {
                unknown.push(if name.is_empty() { format!("(empty, column {})", position + 1) } else { name.clone() });
            } else if self.columns.insert(name.clone(), position).is_some() {
                repeated.push(name.clone());
            }
        }
        let missing: Vec<&str> = kind.required_columns().iter().copied().filter(|c| !self.columns.contains_key(*c)).collect();
        let expected = || {
            let mut all = kind.required_columns().join(", ");
            if !kind.optional_columns().is_empty() {
                all.push_str(&format!(" (optional: {})", kind.optional_columns().join(", ")));
            }
            if kind == Kind::Answers {
                all.push_str(&format!(", and item:<id> for each question, e.g. {}", answers::example_item_columns()));
            }
            all
        };
        if !missing.is_empty() {
            self.usable = false;
            self.errors.push(RowError::new(
                1,
                None,
                format!("the header lacks the column(s) {}; a {kind} file has the columns {}", missing.join(", "), expected()),
            ));
        }
        if !unknown.is_empty() {
            self.errors.push(RowError::new(
                1,
                None,
                format!("unknown column(s) {}: rename or remove them; a {kind} file has the columns {}", unknown.join(", "), expected()),
            ));
        }
        if !repeated.is_empty() {
            self.usable = false;
            self.errors.push(RowError::new(1, None, format!("column(s) {} appear more than once; keep one of each", repeated.join(", "))));
        }
        if kind == Kind::Answers && !headers.iter().any(|h| answers::is_item_column(h)) && missing.is_empty() {
            self.usable = false;
            self.errors.push(RowError::new(
                1,
                None,
                format!("no answer columns: add one item:<id> column per question, e.g. {}", answers::example_item_columns()),
            ));
        }
    }
}

/// One record's values by column name; errors go to the row's list.
pub(crate) struct Cells<'a> {
    table: &'a Table,
    record: &'a Record,
    pub errors: &'a mut Vec<RowError>,
}

impl<'a> Cells<'a> {
    pub fn new(table: &'a Table, record: &'a Record, errors: &'a mut Vec<RowError>) -> Cells<'a> {
        Cells { table, record, errors }
    }


    /// The value, or `None` when the column is absent or blank.
    pub fn optional(&self, column: &str) -> Option<&'a str> {
        let position = *self.table.columns.get(column)?;
        self.record.cells.get(position).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The value; a blank one is an error.
    pub fn required(&mut self, column: &str) -> Option<&'a str> {
        let value = self.optional(column);
        if value.is_none() {
            self.fail(column, "is empty; every row needs a value here");
        }
        value
    }

    pub fn fail(&mut self, column: &str, message: impl Into<String>) {
        self.errors.push(RowError::new(self.record.line, Some(column), message));
    }

    /// A required value read with `read`, whose error explains itself.
    pub fn parse<T>(&mut self, column: &str, read: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let value = self.required(column)?;
        self.check(column, value, read)
    }

    /// An optional value read with `read`.
    pub fn parse_optional<T>(&mut self, column: &str, read: impl FnOnce(&str) -> Result<T, String>) -> Option<Option<T>> {
        match self.optional(column) {
            None => Some(None),
            Some(value) => self.check(column, value, read).map(Some),
        }
    }

    fn check<T>(&mut self, column: &str, value: &str, read: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        match read(value) {
            Ok(v) => Some(v),
            Err(message) => {
                self.fail(column, message);
                None
            }
        }
    }

    /// `item:<id>` columns with a value, in header order.
    pub fn items(&self) -> Vec<(&'a str, &'a str)> {
        let mut items: Vec<(usize, &'a str, &'a str)> = self
            .table
            .columns
            .iter()
            .filter_map(|(name, position)| {
                let item = name.strip_prefix("item:")?;
                let value = self.record.cells.get(*position).map(String::as_str).filter(|v| !v.is_empty())?;
                Some((*position, item, value))
            })
            .collect();
        items.sort_by_key(|(position, _, _)| *position);
        items.into_iter().map(|(_, item, value)| (item, value)).collect()
    }
}
