//! FHIR logical ids and references. celltrace ids become FHIR ids unchanged
//! when they fit FHIR's `[A-Za-z0-9\-\.]{1,64}`; the others (with `_` or `:`,
//! or derived ids grown past 64 characters) are mapped deterministically.

use crate::search::ResourceType;
use serde_json::{json, Value};

/// Longest FHIR id.
pub const MAX_FHIR_ID_LEN: usize = 64;

/// Whether `text` is a valid FHIR logical id as it stands.
pub fn is_fhir_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_FHIR_ID_LEN
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The FHIR id of a celltrace id (or of an id derived from one, such as a QC
/// result's `{unit}-qc-1`).
///
/// Valid ids pass unchanged, so URLs show the ids staff know. Any other text
/// becomes its first 47 characters with every disallowed character replaced
/// by `-`, then `.` and 16 hex digits of its FNV-1a 64-bit hash (64 characters
/// at most). The hash keeps two ids that differ only in `_` versus `:` apart;
/// the mapping is one-way, so readers resolve ids by mapping the ids they hold
/// (see [`crate::read`]), never by decoding.
pub fn fhir_id(raw: &str) -> String {
    if is_fhir_id(raw) {
        return raw.to_owned();
    }
    let readable: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '-' })
        .take(47)
        .collect();
    format!("{readable}.{:016x}", fnv1a64(raw.as_bytes()))
}

/// FNV-1a, 64 bits: small, stable across versions and platforms (unlike std's hasher).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// `{"reference": "Type/id"}` for a celltrace id.
pub fn reference(resource_type: ResourceType, raw_id: &str) -> Value {
    json!({ "reference": reference_string(resource_type, raw_id) })
}

/// `{"reference": "Type/id", "display": ...}` for a celltrace id.
pub fn reference_with_display(resource_type: ResourceType, raw_id: &str, display: Option<&str>) -> Value {
    let mut r = reference(resource_type, raw_id);
    if let (Some(d), Some(obj)) = (display, r.as_object_mut()) {
        obj.insert("display".into(), Value::String(d.to_owned()));
    }
    r
}

/// `Type/id` for a celltrace id.
pub fn reference_string(resource_type: ResourceType, raw_id: &str) -> String {
    format!("{}/{}", resource_type.as_str(), fhir_id(raw_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ids_pass_unchanged() {
        assert_eq!(fhir_id("u-1.a"), "u-1.a");
        assert_eq!(fhir_id("0192f0c2-8d5e-7c3a-9b1e-2f4a6c8d0e12"), "0192f0c2-8d5e-7c3a-9b1e-2f4a6c8d0e12");
        let max = "a".repeat(64);
        assert_eq!(fhir_id(&max), max);
    }

    #[test]
    fn other_ids_are_mapped_into_the_fhir_alphabet_and_kept_apart() {
        let a = fhir_id("dr_smith");
        let b = fhir_id("dr:smith");
        assert!(is_fhir_id(&a) && is_fhir_id(&b), "{a} {b}");
        assert!(a.starts_with("dr-smith."));
        assert_ne!(a, b);
        assert_eq!(a, fhir_id("dr_smith"), "deterministic");
        let long = format!("{}-qc-12", "u".repeat(64));
        let mapped = fhir_id(&long);
        assert!(is_fhir_id(&mapped) && mapped.len() == 64, "{mapped}");
        assert!(is_fhir_id(&fhir_id("")));
        assert!(is_fhir_id(&fhir_id("é_ü")));
    }

    #[test]
    fn references_name_type_and_mapped_id() {
        assert_eq!(reference(ResourceType::Patient, "p_1")["reference"], format!("Patient/{}", fhir_id("p_1")));
        let r = reference_with_display(ResourceType::Practitioner, "doc", Some("Dr Who"));
        assert_eq!(r, json!({"reference": "Practitioner/doc", "display": "Dr Who"}));
    }
}
