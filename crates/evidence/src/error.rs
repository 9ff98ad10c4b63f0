//! Why a data file was refused: which file, where, which field, what.

use std::fmt;

/// One of the three evidence data files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataFile {
    /// `indications.toml`: the conditions and their ICD-10-CM codes.
    Indications,
    /// `status.toml`: the status rules and their defaults.
    Status,
    /// `approved_products.toml`: the regulator-approved products.
    Products,
}

impl DataFile {
    /// The file's name, e.g. `status.toml`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DataFile::Indications => "indications.toml",
            DataFile::Status => "status.toml",
            DataFile::Products => "approved_products.toml",
        }
    }
}

impl fmt::Display for DataFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A data file was refused: the file, the 1-based line, the field and what is
/// wrong, e.g. ``status.toml line 42, field `status`: 'aproved' is not one of
/// approved, investigational, unproven, research-only``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}, field `{field}`: {message}")]
pub struct EvidenceError {
    /// The file at fault.
    pub file: DataFile,
    /// 1-based line (1 when the file as a whole is at fault).
    pub line: usize,
    /// The field (key) at fault, e.g. `status`; `(file)` for the whole file.
    pub field: String,
    /// What is wrong, for the administrator.
    pub message: String,
}

impl EvidenceError {
    /// An error at byte `offset` of `text`.
    pub(crate) fn at(
        file: DataFile,
        text: &str,
        offset: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> EvidenceError {
        EvidenceError { file, line: line_of(text, offset), field: field.into(), message: message.into() }
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    let before = text.as_bytes().get(..offset).unwrap_or_default();
    before.iter().filter(|b| **b == b'\n').count() + 1
}

/// The first name between backticks in a serde message (``missing field `x` ``).
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let rest = message.get(start..)?;
    let end = rest.find('`')?;
    rest.get(..end)
}

/// The key written before `offset` on the same line (`key = value`), if any.
fn key_before(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset.min(text.len()))?;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let line = before.get(line_start..)?;
    let eq = line.rfind('=')?;
    let head = line.get(..eq)?.trim_end();
    let key: String = head
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!key.is_empty()).then_some(key)
}

/// Deserialises `text` as TOML into `T`, turning any syntax or shape error
/// into an [`EvidenceError`] with the line and the field.
pub(crate) fn from_toml<T: serde::de::DeserializeOwned>(
    file: DataFile,
    text: &str,
) -> Result<T, EvidenceError> {
    serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
        let path = e.path().to_string().replace("$__serde_spanned_private_value", "");
        let inner = e.into_inner();
        let offset = inner.span().map_or(0, |s| s.start);
        // toml gives no message when a value is missing at the end (`name =`).
        let message = match inner.message().trim() {
            "" => "a value is missing here: write key = value, e.g. name = \"text\"".to_owned(),
            m => m.to_owned(),
        };
        let named = backticked(&message)
            .filter(|_| {
                message.starts_with("missing field")
                    || message.starts_with("unknown field")
                    || message.starts_with("duplicate key")
            })
            .map(str::to_owned);
        // The last segment of the path names the key, e.g. `row[3].status` -> `status`.
        let last = path
            .trim_end_matches('.')
            .rsplit('.')
            .next()
            .map(|s| s.split('[').next().unwrap_or(s).to_owned())
            .filter(|s| !s.is_empty() && s != "?");
        let field = named
            .or(last)
            .or_else(|| key_before(text, offset))
            .unwrap_or_else(|| "(file)".to_owned());
        EvidenceError::at(file, text, offset, field, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_value_at_the_end_is_named() {
        let e = from_toml::<toml::Value>(DataFile::Products, "A=").expect_err("no value");
        assert_eq!((e.line, e.field.as_str()), (1, "A"));
        assert!(e.message.contains("value is missing"), "{e}");
    }

    #[test]
    fn lines_are_counted_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }

    #[test]
    fn message_names_file_line_and_field() {
        let e = EvidenceError {
            file: DataFile::Status,
            line: 42,
            field: "status".into(),
            message: "'aproved' is not one of approved, investigational, unproven, research-only".into(),
        };
        assert_eq!(
            e.to_string(),
            "status.toml line 42, field `status`: 'aproved' is not one of approved, investigational, unproven, research-only"
        );
    }
}
