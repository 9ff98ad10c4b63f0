//! `celltrace isbt parse|check`: the ISBT 128 codec for scripts and
//! conformance checks. Output is one JSON object; the exit code is 0 whether
//! or not the input is valid, so callers read the verdict from the JSON.

use isbt128::{DataStructure, StructureId};
use serde_json::{json, Map, Value};

fn fields(pairs: Vec<(String, String)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<_, _>>())
}

fn described(s: &DataStructure) -> Value {
    json!({ "valid": true, "structure": s.number(), "fields": fields(s.fields()) })
}

fn structure_id(number: &str) -> Option<StructureId> {
    let wanted = number.trim_start_matches("DS");
    StructureId::ALL.iter().copied().find(|id| id.number() == wanted)
}

/// Parses what a scanner typed. Accepts a bar code with its data identifier,
/// concatenated bar codes (with or without `]C4`), a DIN keyed with its check
/// character, or data content alone when `structure` (e.g. `003`) says which.
pub fn parse(text: &str, structure: Option<&str>) -> Value {
    let first_error = match isbt128::parse(text) {
        Ok(s) => return described(&s),
        Err(e) => e,
    };
    if let Some(number) = structure {
        return match structure_id(number) {
            None => json!({ "valid": false, "error": format!("'{number}' is not an ISBT 128 data structure number (001-040)") }),
            Some(id) => match isbt128::parse_content(id, text) {
                Ok(s) => described(&s),
                Err(e) => json!({ "valid": false, "error": e.to_string() }),
            },
        };
    }
    if let Ok(scan) = isbt128::parse_scan(text) {
        let structures = scan.into_structures();
        if let [only] = structures.as_slice() {
            return described(only);
        }
        if let Some(first) = structures.first() {
            let all: Vec<Value> = structures.iter().map(described).collect();
            return json!({ "valid": true, "structure": first.number(), "fields": fields(first.fields()), "structures": all });
        }
    }
    let trimmed = text.trim();
    if (trimmed.len() == 13 || trimmed.len() == 14) && trimmed.chars().all(|c| c.is_ascii_alphanumeric()) {
        return match isbt128::parse_keyed_din(trimmed) {
            Ok(keyed) => {
                let din = keyed.din;
                json!({
                    "valid": true,
                    "structure": "001",
                    "fields": {
                        "din": din.to_string(),
                        "fin": din.fin().as_str(),
                        "year": format!("{:02}", din.year()),
                        "sequence": format!("{:06}", din.sequence()),
                        "check_character": din.check_character().to_string(),
                        "keyed_check_character": keyed.check_character.map(String::from).unwrap_or_default(),
                    }
                })
            }
            Err(e) => json!({ "valid": false, "error": e.to_string() }),
        };
    }
    json!({ "valid": false, "error": first_error.to_string() })
}

/// The ISO/IEC 7064 MOD 37-2 check character of `chars`, or why there is none.
pub fn check(chars: &str) -> Result<char, String> {
    isbt128::check_character(chars).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_din_bar_code_is_described() {
        let v = parse("=A99991712345600", None);
        assert_eq!(v["valid"], true);
        assert_eq!(v["structure"], "001");
        assert!(v["fields"].as_object().is_some_and(|f| !f.is_empty()));
    }

    #[test]
    fn content_only_needs_the_structure() {
        assert_eq!(parse("S12954A0", Some("003"))["structure"], "003");
        assert_eq!(parse("S12954A0", Some("DS003"))["valid"], true);
        assert_eq!(parse("S12954A0", Some("999"))["valid"], false);
    }

    #[test]
    fn keyed_dins_are_checked() {
        let k = check("A999917123456").expect("check character");
        assert_eq!(parse(&format!("A999917123456{k}"), None)["valid"], true);
        let wrong = if k == '0' { '1' } else { '0' };
        let v = parse(&format!("A999917123456{wrong}"), None);
        assert_eq!(v["valid"], false);
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
    }

    #[test]
    fn garbage_is_invalid_with_a_reason() {
        let v = parse("hello world", None);
        assert_eq!(v["valid"], false);
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
        assert!(check("a b").is_err());
    }
}
