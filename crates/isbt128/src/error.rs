//! Parse errors: what is wrong, in which structure, and where.
//!
//! This module owns [`ParseError`] and its [`ErrorKind`]. Every fallible
//! parsing or building function of the crate returns a `ParseError`.
//!
//! **Positions are 0-based character indices into the exact string that was
//! passed to the parsing function** (including the data identifier, and any
//! `]C4` symbology prefix, when they were part of that string). For
//! [`parse_content`](crate::parse_content) they index the data content.

use crate::kind::StructureId;
use std::fmt;

/// What kind of fault a [`ParseError`] reports.
///
/// ```
/// use isbt128::{parse, ErrorKind};
/// let err = parse("=A99991x12345600").unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::UnexpectedCharacter { found: 'x', .. }));
/// assert_eq!(err.position(), 7);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input was empty.
    Empty,
    /// The input (or the next structure in a scan) does not start with a known
    /// ISBT 128 data identifier.
    UnknownDataIdentifier {
        /// The characters found where a data identifier was expected (at most 3).
        found: String,
    },
    /// A character is not allowed at this position.
    UnexpectedCharacter {
        /// The name of the element (e.g. `"year"`).
        field: &'static str,
        /// What was allowed (e.g. `"a digit 0-9"`).
        expected: &'static str,
        /// What was found.
        found: char,
    },
    /// The input ended inside a structure.
    UnexpectedEnd {
        /// The name of the element that is incomplete.
        field: &'static str,
        /// How many characters the structure (or element) still needed.
        missing: usize,
    },
    /// Characters remain after a complete structure.
    TrailingCharacters {
        /// The first extra character.
        found: char,
    },
    /// An element is well-formed but its value is not allowed (dates, times,
    /// reserved positions, category rules).
    OutOfRange {
        /// The name of the element.
        field: &'static str,
        /// The value found.
        value: String,
        /// What was allowed.
        expected: &'static str,
    },
    /// A check value (type-3 DIN flags, keyboard check character, GRID or
    /// Basic UDI-DI checksum) does not match the data.
    CheckMismatch {
        /// Which check failed (e.g. `"type-3 flags"`).
        check: &'static str,
        /// The value computed from the data.
        expected: String,
        /// The value found.
        found: String,
    },
    /// A compound message (DS023) declares a different number of structures
    /// than follow it.
    CompoundCount {
        /// The count declared in `aa`.
        declared: usize,
        /// The number of structures actually found.
        found: usize,
    },
    /// A compound message with a specified sequence (`bbb` ≠ `000`) has its
    /// structures in the wrong order.
    CompoundOrder {
        /// 0-based index of the structure within the message.
        index: usize,
        /// The structure RT017 requires at this index.
        expected: StructureId,
        /// The structure found.
        found: StructureId,
    },
    /// A structure that may not appear inside a compound message (DS023
    /// itself, or a nationally defined structure).
    NotAllowedInCompound {
        /// The structure found.
        found: StructureId,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "empty input"),
            Self::UnknownDataIdentifier { found } => {
                write!(f, "expected an ISBT 128 data identifier, found {found:?}")
            }
            Self::UnexpectedCharacter {
                field,
                expected,
                found,
            } => write!(f, "{field}: expected {expected}, found {found:?}"),
            Self::UnexpectedEnd { field, missing } => write!(
                f,
                "{field}: input ended, {missing} more character{} expected",
                if *missing == 1 { "" } else { "s" }
            ),
            Self::TrailingCharacters { found } => {
                write!(
                    f,
                    "expected end of structure, found extra character {found:?}"
                )
            }
            Self::OutOfRange {
                field,
                value,
                expected,
            } => write!(f, "{field}: expected {expected}, found {value:?}"),
            Self::CheckMismatch {
                check,
                expected,
                found,
            } => write!(f, "{check}: expected {expected:?}, found {found:?}"),
            Self::CompoundCount { declared, found } => write!(
                f,
                "compound message declares {declared} structures but {found} follow"
            ),
            Self::CompoundOrder {
                index,
                expected,
                found,
            } => write!(
                f,
                "compound message structure {index}: expected DS{} ({}), found DS{} ({})",
                expected.number(),
                expected.name(),
                found.number(),
                found.name()
            ),
            Self::NotAllowedInCompound { found } => write!(
                f,
                "DS{} ({}) is not allowed inside a compound message",
                found.number(),
                found.name()
            ),
        }
    }
}

/// A parse or validation failure: the kind of fault, the structure it was
/// found in (when known) and the 0-based character position.
///
/// ```
/// let err = isbt128::parse("=W4836260000A100").unwrap_err();
/// assert_eq!(err.structure(), Some(isbt128::StructureId::Din));
/// assert_eq!(err.position(), 12);
/// assert_eq!(
///     err.to_string(),
///     "DS001 Donation Identification Number: position 12: sequence: expected a digit 0-9, found 'A'"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: ErrorKind,
    structure: Option<StructureId>,
    position: usize,
}

impl ParseError {
    /// Creates an error. Mostly useful to callers that wrap this crate.
    ///
    /// ```
    /// use isbt128::{ErrorKind, ParseError};
    /// let e = ParseError::new(ErrorKind::Empty, None, 0);
    /// assert_eq!(e.to_string(), "position 0: empty input");
    /// ```
    #[must_use]
    pub fn new(kind: ErrorKind, structure: Option<StructureId>, position: usize) -> Self {
        Self {
            kind,
            structure,
            position,
        }
    }

    /// The kind of fault.
    ///
    /// ```
    /// let e = isbt128::parse("").unwrap_err();
    /// assert_eq!(e.kind(), &isbt128::ErrorKind::Empty);
    /// ```
    #[must_use]
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The structure in which the fault was found, if the data identifier was recognised.
    ///
    /// ```
    /// let e = isbt128::parse("=%62").unwrap_err();
    /// assert_eq!(e.structure(), Some(isbt128::StructureId::BloodGroups));
    /// ```
    #[must_use]
    pub fn structure(&self) -> Option<StructureId> {
        self.structure
    }

    /// 0-based character position of the fault in the parsed string.
    ///
    /// ```
    /// let e = isbt128::parse("=>019366").unwrap_err(); // 2019 has 365 days
    /// assert_eq!(e.position(), 5);
    /// ```
    #[must_use]
    pub fn position(&self) -> usize {
        self.position
    }

    pub(crate) fn shifted(mut self, by: usize) -> Self {
        self.position = self.position.saturating_add(by);
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(id) = self.structure {
            write!(f, "{id} {}: ", id.name())?;
        }
        write!(f, "position {}: {}", self.position, self.kind)
    }
}

impl std::error::Error for ParseError {}
