//! Cellular-therapy unit labels (ISBT 128) rendered as PNG, PDF and Zebra
//! ZPL II. Pure: functions take a [`LabelData`] and return bytes or strings;
//! no file, network or font-directory access (the fonts are embedded).
//!
//! A label is 100 mm × 100 mm and carries:
//!
//! - four Code 128 bar codes, each with its text underneath: DS001 DIN
//!   (`=` + DIN + flags), DS003 product code (`=<`), DS007 collection date
//!   and time (`&*`) and DS005 expiration date and time (`&>`, the form
//!   ST-001 recommends for cellular therapy);
//! - the eye-readable DIN with the MOD 37-2 check character in a box;
//! - the product description, collection and expiry as text (UTC),
//!   facility, quantity;
//! - for autologous units the patient's name, date of birth and MRN under
//!   "FOR AUTOLOGOUS USE ONLY";
//! - the statements the product code and FIN call for, then the caller's;
//! - one Data Matrix with a DS023 compound message of the same four structures.
//!
//! ```
//! use celltrace_labels::{barcodes, compound_message, render_zpl, LabelData, PatientLine};
//!
//! let label = LabelData {
//!     din: "A999126000101".into(),
//!     flags: "00".into(),
//!     product_code: "S1003100".into(),
//!     product_description: "Autologous adipose-derived MSC, cryopreserved".into(),
//!     collected_at: (2026, 3, 2, 9, 30),
//!     expires_at: (2026, 12, 31, 12, 0),
//!     facility: "Mumbai Cell Processing Laboratory (FIN A9991)".into(),
//!     quantity: "5 mL".into(),
//!     autologous_patient: Some(PatientLine {
//!         name: "Asha Rao".into(),
//!         date_of_birth: "1971-08-14".into(),
//!         mrn: "MRN-0042917".into(),
//!     }),
//!     warnings: vec!["Do not irradiate".into()],
//! };
//! let codes = barcodes(&label)?;
//! assert_eq!(codes[0].data, "=A99912600010100");
//! assert_eq!(codes[1].data, "=<S1003100");
//! assert_eq!(codes[3].data, "&>0263651200");
//! assert!(compound_message(&label)?.starts_with("=+04000=A99912600010100"));
//! assert!(render_zpl(&label)?.starts_with("^XA"));
//! # Ok::<(), celltrace_labels::LabelError>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod data;
mod layout;
mod pdf;
mod raster;
mod symbols;
mod text;
mod zpl;

use layout::Modules;
use text::Fonts;

/// Everything printed on one cellular-therapy unit label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelData {
    /// The 13-character DIN: FIN (5) + nominal year (2) + sequence (6),
    /// e.g. `A999126000101`.
    pub din: String,
    /// The two DS001 flag characters, e.g. `00`.
    pub flags: String,
    /// The 8-character DS003 content, e.g. `S1003100`.
    pub product_code: String,
    /// The product description from the site's product table.
    pub product_description: String,
    /// Collection date and time, UTC: (year, month, day, hour, minute).
    pub collected_at: (i32, u8, u8, u8, u8),
    /// Expiry date and time, UTC: (year, month, day, hour, minute).
    pub expires_at: (i32, u8, u8, u8, u8),
    /// The collecting/processing facility as printed.
    pub facility: String,
    /// The quantity as printed, e.g. `5 mL`.
    pub quantity: String,
    /// For autologous units: the intended recipient, who is also the donor.
    pub autologous_patient: Option<PatientLine>,
    /// Extra statements printed after the ones the crate adds.
    pub warnings: Vec<String>,
}

/// The patient block of an autologous label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientLine {
    /// The patient's name, in any script (see the crate README for what is
    /// printed when the embedded font lacks the script).
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Medical record number.
    pub mrn: String,
}

/// One linear (Code 128) bar code on the label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barcode {
    /// ISBT 128 data structure number, e.g. `"001"`.
    pub structure: &'static str,
    /// The structure's name, e.g. `"Donation Identification Number"`.
    pub name: &'static str,
    /// The exact bar-code data: data identifier + content, e.g. `=A99912600010100`.
    pub data: String,
    /// The text printed under the bar code (no data identifier).
    pub text: String,
}

/// Why a label could not be made. Messages are meant for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// The DIN or its flags are not valid.
    #[error("{0}")]
    Din(String),
    /// The product code is not valid or not supported.
    #[error("{0}")]
    ProductCode(String),
    /// A date or time is not valid.
    #[error("{field} '{value}' is not valid: {reason}")]
    InvalidDateTime {
        /// Which date and time.
        field: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A required text field is empty.
    #[error("the {0} must not be empty")]
    MissingText(&'static str),
    /// The patient block is incomplete or invalid.
    #[error("{0}")]
    Patient(String),
    /// The text does not fit on the label.
    #[error("{0}")]
    DoesNotFit(String),
    /// The resolution is outside the supported range.
    #[error("{0} dpi is not supported: use 200 to 1200 dpi")]
    Dpi(u32),
    /// A symbol or output format could not be encoded.
    #[error("{0}")]
    Encoding(String),
}

/// The linear bar codes in label order (DS001, DS003, DS007, DS005), each
/// data string including its data identifier, as produced by the `isbt128`
/// codec (so `isbt128::parse(&code.data)` reads it back).
///
/// # Errors
/// Any invalid field (see [`LabelError`]).
pub fn barcodes(label: &LabelData) -> Result<Vec<Barcode>, LabelError> {
    Ok(data::encode(label)?.barcodes())
}

/// The DS023 compound message (`=+04000` + the four structures of
/// [`barcodes`], undefined order) encoded in the Data Matrix.
///
/// # Errors
/// Any invalid field (see [`LabelError`]).
pub fn compound_message(label: &LabelData) -> Result<String, LabelError> {
    data::encode(label)?.compound()
}

/// The statements printed on the label: the ones the crate adds
/// (autologous use, biohazard, validation FIN) followed by
/// [`LabelData::warnings`].
///
/// # Errors
/// Any invalid field (see [`LabelError`]).
pub fn statements(label: &LabelData) -> Result<Vec<String>, LabelError> {
    let enc = data::encode(label)?;
    let mut out = enc.required_statements(label.autologous_patient.is_some());
    out.extend(
        label
            .warnings
            .iter()
            .filter(|w| !w.trim().is_empty())
            .cloned(),
    );
    Ok(out)
}

/// Pixel width (= height) of the PNG [`render_png`] makes at `dpi`.
#[must_use]
pub fn png_side_px(dpi: u32) -> u32 {
    raster::size_px(dpi)
}

/// The label as an 8-bit greyscale PNG, 100 mm square at `dpi` (200–1200).
/// Code 128 modules are whole pixels (3 px at 300 dpi, 0.254 mm).
///
/// # Errors
/// Any invalid field, text that does not fit, or an unsupported `dpi`.
pub fn render_png(label: &LabelData, dpi: u32) -> Result<Vec<u8>, LabelError> {
    if !(200..=1200).contains(&dpi) {
        return Err(LabelError::Dpi(dpi));
    }
    let enc = data::encode(label)?;
    let fonts = Fonts::load()?;
    let (linear, matrix) = raster::module_px(dpi);
    let per_px = 25.4 / f64::from(dpi);
    let modules = Modules {
        linear: f64::from(linear) * per_px,
        matrix: f64::from(matrix) * per_px,
    };
    let items = layout::layout(label, &enc, &fonts, modules)?;
    raster::render(&items, &fonts, dpi)
}

/// The label as a one-page PDF (100 mm square), drawn with vector paths.
///
/// # Errors
/// Any invalid field or text that does not fit.
pub fn render_pdf(label: &LabelData) -> Result<Vec<u8>, LabelError> {
    let enc = data::encode(label)?;
    let fonts = Fonts::load()?;
    let items = layout::layout(
        label,
        &enc,
        &fonts,
        Modules {
            linear: 0.254,
            matrix: 0.5,
        },
    )?;
    pdf::render(&items, &fonts, &format!("ISBT 128 label {}", enc.din.din()))
}

/// The label as Zebra ZPL II for an 8 dots/mm (203 dpi) printer: `^XA` …
/// `^XZ`, one `^BC` Code 128 per structure (module 2 dots = 0.25 mm, each
/// preceded by an `^FX` comment with its exact data string), `^BX` Data
/// Matrix for the compound message, text with `^A0` and `^FH` escapes.
///
/// # Errors
/// Any invalid field or text that does not fit.
pub fn render_zpl(label: &LabelData) -> Result<String, LabelError> {
    let enc = data::encode(label)?;
    let fonts = Fonts::load()?;
    let m = 1.0 / zpl::DOTS_PER_MM;
    let items = layout::layout(
        label,
        &enc,
        &fonts,
        Modules {
            linear: 2.0 * m,
            matrix: 4.0 * m,
        },
    )?;
    Ok(zpl::render(&items))
}
