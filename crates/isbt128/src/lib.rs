//! A pure ISBT 128 codec (ICCBBA ST-001 v6.2.2): parse, validate, encode
//! and format ISBT 128 data structures, and compute ISO/IEC 7064 MOD 37-2
//! keyboard check characters. No I/O, no `unsafe`, no panics on any input.
//!
//! # Quick start
//!
//! ```
//! use isbt128::{parse, parse_scan, DataStructure};
//!
//! // One bar code, data identifier included.
//! let s = parse("=A99991712345600")?;
//! assert_eq!(s.number(), "001");
//! assert_eq!(s.encode(), "=A99991712345600"); // exact round trip
//! if let DataStructure::Din(din) = &s {
//!     assert_eq!(din.din().fin().as_str(), "A9999");
//!     assert_eq!(din.eye_readable().to_string(), "A9999 17 123456 [9]");
//! }
//!
//! // A concatenated scan (optionally with the AIM `]C4` prefix).
//! let scan = parse_scan("]C4=A99991712345600=%6200")?;
//! assert_eq!(scan.structures[1].fields()[0], ("gg".to_string(), "62".to_string()));
//!
//! // Errors say where and what.
//! let e = parse("=A99991x12345600").unwrap_err();
//! assert_eq!(
//!     e.to_string(),
//!     "DS001 Donation Identification Number: position 7: year: expected a digit 0-9, found 'x'"
//! );
//! # Ok::<(), isbt128::ParseError>(())
//! ```
//!
//! # Building a DIN
//!
//! ```
//! use isbt128::{Din, DinStructure};
//! let din = Din::new("W4836", 26, 11)?;
//! assert_eq!(din.to_string(), "W483626000011");
//! assert_eq!(din.check_character(), 'N');
//! assert_eq!(DinStructure::with_check_flags(din).encode(), "=W48362600001183");
//! # Ok::<(), isbt128::ParseError>(())
//! ```
//!
//! # Modules
//!
//! - [`check`]: MOD 37-2 check characters.
//! - [`din`]: FIN, DIN, flags, DS001 and keyed DINs.
//! - [`structures`]: one type per data structure and [`DataStructure`].
//! - [`scan`]: [`parse`], [`parse_scan`], [`parse_content`].
//! - [`forms`]: Basic UDI-DI and SEC texts.
//! - [`kind`]: [`StructureId`], numbers and data identifiers.
//! - [`date`]: small date/time types and the century-digit policy.
//! - [`tables`]: code → meaning lookups printed in ST-001.
//! - [`error`]: [`ParseError`] and [`ErrorKind`].
//!
//! # Positions
//!
//! Error positions are **0-based character indices** into the string that
//! was passed in (data identifier and AIM prefix included when present).
//!
//! # Policies where ST-001 is silent
//!
//! - Century digit `c` of DS004–DS009: see [`date::year_from_century_digit`].
//! - The non-compliant 15-character `=` + DIN + K scanner form is rejected;
//!   use [`parse_keyed_din`] for keyed 13/14-character DINs.
//! - Lookup tables (blood groups, collection types, …) do not reject unknown
//!   codes; only the character sets, lengths and explicit rules do.
//! - DS039 GRID: the two-digit checksum is verified as MOD 37-2 over the
//!   17 preceding characters.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod check;
pub mod date;
pub mod din;
pub mod error;
pub mod forms;
pub mod kind;
pub mod scan;
mod spec;
pub mod structures;
pub mod tables;

pub use check::{check_character, checksum, verify, CheckError};
pub use date::{Date, Time};
pub use din::{
    is_valid_fin, parse_keyed_din, Din, DinStructure, EyeReadableDin, Fin, FlagKind, Flags,
    KeyedDin,
};
pub use error::{ErrorKind, ParseError};
pub use forms::{BasicUdiDi, SecProductIdentification, SecText};
pub use kind::StructureId;
pub use scan::{parse, parse_content, parse_scan, Scan, SymbologyId};
pub use structures::{
    BloodGroups, ChainOfIdentity, CollectionDate, CollectionDateTime, CompoundMessage, Consignment,
    ContainerCatalog, ContainerLot, DataStructure, Dimensions, DonorId, ExpirationDate,
    ExpirationDateTime, ExpirationMonth, FlexibleDateTime, Grid, GridRetired, HlaABRetired,
    HlaDrb1Retired, InfectionMarkers, ItemCatalog, ItemLot, MphoLot, MphoSupplementalId,
    NationalStructure, PatientBirthDate, PatientId, PlateletHlaAntigens, Ppic, ProcessingFacility,
    ProductCode, ProductDivisions, ProductionDate, ProductionDateTime, RbcAntigens,
    RbcAntigensFinnish, RbcAntigensRetired, RedCellAntigenHistory, Sec, SpecialTesting, StaffId,
};

/// Encodes a structure to its exact bar-code text (data identifier +
/// content). Same as [`DataStructure::encode`]; provided so that
/// `encode(&parse(s)?) == s` reads naturally.
///
/// ```
/// let s = "&>0203662359";
/// assert_eq!(isbt128::encode(&isbt128::parse(s)?), s);
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[must_use]
pub fn encode(structure: &DataStructure) -> String {
    structure.encode()
}
