//! Small JSON helpers every resource builder shares: dropping absent values
//! (FHIR JSON forbids nulls, empty strings, arrays and objects), codings,
//! celltrace extensions and escaped XHTML narrative.

use crate::systems;
use serde_json::{json, Map, Value};

/// Removes nulls, empty strings, empty arrays and empty objects, recursively,
/// so builders can write every field and let absent ones vanish.
pub fn prune(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let kept: Map<String, Value> = map
                .into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect();
            Value::Object(kept)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(prune).filter(|v| !is_empty(v)).collect()),
        Value::String(s) => Value::String(s.trim().to_owned()),
        other => other,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Whether `text` is a valid FHIR `code` (no leading, trailing or doubled whitespace).
pub fn is_code(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with(char::is_whitespace)
        && !text.ends_with(char::is_whitespace)
        && !text.split(char::is_whitespace).any(str::is_empty)
}

/// A Coding; `display` may be empty (then dropped by [`prune`]).
pub fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

/// A CodeableConcept of one coding and a text.
pub fn concept(system: &str, code: &str, display: &str, text: &str) -> Value {
    json!({ "coding": [coding(system, code, display)], "text": text })
}

/// A CodeableConcept of text alone (free text the domain holds uncoded).
pub fn text_concept(text: &str) -> Value {
    json!({ "text": text })
}

/// A celltrace extension carrying `value` under its `value[x]` name,
/// e.g. `extension("unit-status", "valueCode", json!("quarantine"))`.
pub fn extension(name: &str, value_key: &str, value: Value) -> Value {
    if is_empty(&value) {
        return Value::Null;
    }
    let mut map = Map::new();
    map.insert("url".into(), Value::String(format!("{}/{name}", systems::EXTENSION_BASE)));
    map.insert(value_key.into(), value);
    Value::Object(map)
}

/// A decimal from thousandths, exactly as the domain stores amounts.
pub fn decimal_from_milli(milli: i64) -> Value {
    // Thousandths of realistic amounts are far below 2^53: the f64 is exact to
    // the third decimal, and serde_json prints the shortest form that round-trips.
    json!(milli as f64 / 1000.0)
}

/// Generated XHTML narrative of one paragraph, escaped.
pub fn narrative(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Null;
    }
    let mut escaped = String::with_capacity(text.len());
    for c in text.trim().chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            // XML 1.0 forbids most control characters; a narrative never needs them.
            c if c.is_control() && c != '\n' && c != '\t' => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    json!({
        "status": "generated",
        "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{escaped}</p></div>"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_drops_absent_values_at_every_depth() {
        let v = json!({"a": null, "b": "", "c": [], "d": {}, "e": [{"f": null}, {"g": " x "}], "h": 0, "i": false});
        assert_eq!(prune(v), json!({"e": [{"g": "x"}], "h": 0, "i": false}));
    }

    #[test]
    fn codes_have_no_stray_whitespace() {
        assert!(is_code("viability"));
        assert!(is_code("CD34 count"));
        assert!(!is_code(" x"));
        assert!(!is_code("a  b"));
        assert!(!is_code(""));
    }

    #[test]
    fn extensions_and_decimals() {
        let e = extension("unit-status", "valueCode", json!("released"));
        assert_eq!(e["url"], format!("{}/unit-status", systems::EXTENSION_BASE));
        assert_eq!(extension("x", "valueString", json!("")), Value::Null);
        assert_eq!(decimal_from_milli(10_500).to_string(), "10.5");
        assert_eq!(decimal_from_milli(5_000).to_string(), "5.0");
    }

    #[test]
    fn narrative_is_escaped_xhtml() {
        let n = narrative("a < b & \"c\"");
        assert_eq!(n["div"], "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a &lt; b &amp; &quot;c&quot;</p></div>");
        assert_eq!(narrative("  "), Value::Null);
    }
}
