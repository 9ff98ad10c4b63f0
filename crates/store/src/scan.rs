//! Scan resolution: what a bar-code scanner (or a keyboard) typed, resolved
//! to a unit or a patient at a site, or a precise reason why not.

use crate::read::Reader;
use crate::StoreError;
use celltrace_domain::model::{Person, Unit};
use isbt128::DataStructure;

/// What a scan identified.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// A unit (DIN, and product code when several units share the DIN).
    Unit(Box<Unit>),
    /// A patient, from a wristband's patient identification number.
    Patient(Person),
}

/// Why a scan did not identify anything.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Not readable as ISBT 128.
    #[error("{0}")]
    Unreadable(String),
    /// Readable, but nothing in celltrace matches.
    #[error("{0}")]
    Unknown(String),
    /// A divided product: several units share the DIN.
    #[error("{0}")]
    Ambiguous(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ScanError {
    /// A stable code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            ScanError::Unreadable(_) => "unreadable",
            ScanError::Unknown(_) => "unknown",
            ScanError::Ambiguous(_) => "divided_product_not_specified",
            ScanError::Store(_) => "storage",
        }
    }
}

fn flatten(structures: Vec<DataStructure>) -> Vec<DataStructure> {
    let mut out = Vec::new();
    for s in structures {
        match s {
            DataStructure::CompoundMessage(c) => out.extend(c.structures().iter().cloned()),
            other => out.push(other),
        }
    }
    out
}

/// The identifiers a scan carries.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scanned {
    din: Option<String>,
    product: Option<String>,
    patient: Option<String>,
}

/// The structures in what was typed: bar codes (one, several concatenated, or
/// a compound message), or a DIN keyed by hand with its check character.
fn read(text: &str) -> Result<Scanned, ScanError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ScanError::Unreadable("Nothing was scanned: put the cursor in the scan field and scan again.".into()));
    }
    let structures = match isbt128::parse_scan(text) {
        Ok(scan) => flatten(scan.into_structures()),
        Err(scan_error) => {
            let keyed = text.len() == 13 || text.len() == 14;
            if keyed && text.chars().all(|c| c.is_ascii_alphanumeric()) {
                return match isbt128::parse_keyed_din(text) {
                    Ok(k) => Ok(Scanned { din: Some(k.din.to_string()), ..Scanned::default() }),
                    Err(e) => Err(ScanError::Unreadable(format!("The keyed DIN is not valid: {e}. Check the characters against the label, including the boxed check character."))),
                };
            }
            return Err(ScanError::Unreadable(format!("This is not an ISBT 128 bar code celltrace can read: {scan_error}.")));
        }
    };
    let mut din = None;
    let mut product = None;
    let mut patient = None;
    for s in structures {
        match s {
            DataStructure::Din(d) => din = Some(d.din().to_string()),
            DataStructure::ProductCode(p) => product = Some(p.content().to_owned()),
            DataStructure::PatientId(p) => {
                // Content: location (2), length (2), then exactly that many characters.
                let content = p.content();
                patient = content.get(4..).map(str::to_owned);
            }
            _ => {}
        }
    }
    Ok(Scanned { din, product, patient })
}

impl Reader {
    /// Resolves a scan at `site`: a wristband to the patient registered there,
    /// a unit label to the unit (units may be at any site; the caller checks).
    pub async fn resolve_scan(&self, site: &str, text: &str) -> Result<Resolution, ScanError> {
        let Scanned { din, product, patient } = read(text)?;
        if let Some(mrn) = patient {
            return match self.person_by_mrn(site, &mrn).await? {
                Some(p) => Ok(Resolution::Patient(p)),
                None => Err(ScanError::Unknown(format!("No patient with identification number {mrn} is registered at this site. Check the wristband."))),
            };
        }
        let Some(din) = din else {
            return Err(ScanError::Unreadable(
                "The scan holds no donation identification number or patient identification: scan the DIN bar code of the unit or the patient's wristband.".into(),
            ));
        };
        let units = self.units_by_din(&din).await?;
        let matching: Vec<&Unit> = match &product {
            Some(code) => units.iter().filter(|u| &u.product_code == code).collect(),
            None => units.iter().collect(),
        };
        match (matching.as_slice(), &product) {
            ([], _) if units.is_empty() => Err(ScanError::Unknown(format!(
                "Unknown DIN {din}: no unit with this donation identification number is registered. Check the label."
            ))),
            ([], Some(code)) => Err(ScanError::Unknown(format!(
                "DIN {din} has no unit with product code {code}. Check that both bar codes are from the same label."
            ))),
            ([one], _) => Ok(Resolution::Unit(Box::new((*one).clone()))),
            (many, _) => {
                let codes: Vec<&str> = many.iter().map(|u| u.product_code.as_str()).collect();
                Err(ScanError::Ambiguous(format!(
                    "DIN {din} is a divided product with {} units (product codes {}): scan the product code bar code too.",
                    many.len(),
                    codes.join(", ")
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bar_codes_keyed_dins_and_wristbands() {
        let din = Some("A999926123456".to_owned());
        assert_eq!(read("=A99992612345600").ok(), Some(Scanned { din: din.clone(), ..Scanned::default() }));
        assert_eq!(
            read("]C4=A99992612345600=<S1003100").ok(),
            Some(Scanned { din, product: Some("S1003100".into()), patient: None })
        );
        assert_eq!(read("&#0109DXB100231").ok().and_then(|s| s.patient).as_deref(), Some("DXB100231"));
        assert!(matches!(read(""), Err(ScanError::Unreadable(_))));
        assert!(matches!(read("hello"), Err(ScanError::Unreadable(_))));
    }

    #[test]
    fn a_keyed_din_with_a_wrong_check_character_is_named() {
        let good = isbt128::Din::parse("A999926123456").expect("din").with_check_character();
        assert!(read(&good).is_ok());
        let wrong_k = if good.ends_with('0') { format!("{}1", &good[..13]) } else { format!("{}0", &good[..13]) };
        match read(&wrong_k) {
            Err(ScanError::Unreadable(message)) => assert!(message.to_lowercase().contains("check"), "{message}"),
            other => panic!("expected a check-character error, got {other:?}"),
        }
    }
}
