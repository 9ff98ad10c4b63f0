//! Conformance against the sourced test vectors (see README: Test vectors).
//!
//! The vectors are loaded from `tests/data/isbt128_vectors.json` (a copy kept
//! in this crate) and, when it exists, also from the shared reference folder
//! beside the repository, so a refreshed shared set is checked too.

use isbt128::{
    check_character, parse, parse_content, parse_keyed_din, parse_scan, BasicUdiDi, CheckError,
    DataStructure, ErrorKind, ParseError, SecProductIdentification, SecText, StructureId,
};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

fn vector_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![dir.join("tests/data/isbt128_vectors.json")];
    let shared = dir.join("../../../shared/reference/isbt128_vectors.json");
    if shared.exists() {
        files.push(shared);
    }
    files
}

fn load(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let value: Value = serde_json::from_str(&text).expect("vectors file is JSON");
    value
        .as_array()
        .cloned()
        .expect("vectors file is a JSON array")
}

/// How a vector's input is meant to be read, from its `structure` text.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Form {
    /// Bar-code data with data identifier(s).
    WithDi(Option<StructureId>),
    /// Data content only, for a known structure.
    Content(StructureId),
    /// 13 or 14 characters keyed by a person.
    Keyed,
    /// A bare 13-character DIN whose K is given.
    DinK,
    /// Generic MOD 37-2 input.
    Mod372,
    BasicUdiDi,
    SecText,
    SecProduct,
    Concatenated,
    Any,
}

fn leading_id(structure: &str) -> Option<StructureId> {
    StructureId::from_number(structure.get(..3)?)
}

fn classify(structure: &str) -> Form {
    let s = structure.trim();
    if s.starts_with("(any)") {
        Form::Any
    } else if s.contains("data content only") {
        Form::Content(leading_id(s).expect("content-only vector names its structure"))
    } else if s.starts_with("DIN + keyboard") || s.starts_with("bare 13") {
        Form::Keyed
    } else if s.starts_with("DIN keyboard entry") {
        Form::DinK
    } else if s.starts_with("ISO/IEC 7064") {
        Form::Mod372
    } else if s.starts_with("Basic UDI-DI") {
        Form::BasicUdiDi
    } else if s.starts_with("SEC eye-readable") {
        Form::SecText
    } else if s.starts_with("SEC product identification") {
        Form::SecProduct
    } else if s.starts_with("concatenated") {
        Form::Concatenated
    } else if s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        // "004/005 expiration date" style: one of several; let the DI decide.
        let id = if s.get(3..4) == Some("/") {
            None
        } else {
            leading_id(s)
        };
        Form::WithDi(id)
    } else {
        panic!("unclassified vector structure {structure:?}")
    }
}

/// Vector field name → this crate's field name, where they differ.
fn alias(key: &str) -> &str {
    match key {
        "b_container_id" => "container_id",
        "qq_manufacturer" => "manufacturer",
        "aa" => "count",
        "bbb" => "message",
        "location_code_aa" => "location",
        "length_ll" => "length",
        "nn" => "count",
        "divisions_code" => "divisions",
        "expiry_yyyymmdd" => "expiry",
        "checksum_bb" => "checksum",
        "AAAA" => "hla_a",
        "BBBB" => "hla_b",
        "CCCCCCCC" => "platelet_antigens",
        "D" => "reserved",
        "E" => "high_titre_anti_ab",
        "tds_division" => "tds",
        "claimed_check_char" => "check_character",
        other => other,
    }
}

/// Per-structure aliases that depend on the structure.
fn alias_for(id: Option<StructureId>, key: &str) -> String {
    match (id, key) {
        (Some(StructureId::DonorId), "sequence") => "donor_number".to_owned(),
        (Some(StructureId::Consignment), "yy") => "year".to_owned(),
        (Some(StructureId::Consignment), "serial") => "serial".to_owned(),
        _ => alias(key).to_owned(),
    }
}

fn lookup<'a>(mine: &'a [(String, String)], key: &str) -> Option<&'a str> {
    mine.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn same(expected: &str, got: &str) -> bool {
    // "A (ISBT 128)" style values carry an explanation after the code.
    expected == got
        || expected.starts_with(&format!("{got} ("))
        || expected.starts_with(&format!("{got} = "))
}

/// Free-text explanations in the vectors, worded by their author.
const DESCRIPTIVE: &[&str] = &[
    "category",
    "label_text",
    "division_note",
    "b_meaning",
    "r_meaning",
    "decoded_per_source",
    "position1_rh",
    "positions_2_16",
    "positions_11_18",
    "flag_type",
];

/// Compares the vector's fields with ours; returns how many were compared.
fn compare_fields(
    label: &str,
    id: Option<StructureId>,
    expected: &Map<String, Value>,
    mine: &[(String, String)],
) -> usize {
    let mut compared = 0;
    for (key, value) in expected {
        match value {
            Value::String(_) if DESCRIPTIVE.contains(&key.as_str()) => {}
            Value::String(v) => {
                let k = alias_for(id, key);
                if let Some(got) = lookup(mine, &k) {
                    assert!(
                        same(v, got),
                        "{label}: field {key} ({k}): expected {v:?}, got {got:?}"
                    );
                    compared += 1;
                }
            }
            Value::Object(map) if key == "decoded" => {
                for (marker, v) in map {
                    if let (Some(v), Some(got)) = (v.as_str(), lookup(mine, marker)) {
                        assert_eq!(v, got, "{label}: marker {marker}");
                        compared += 1;
                    }
                }
            }
            Value::Array(items) if key == "sequence" => {
                let want: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                if let Some(got) = lookup(mine, "sequence") {
                    assert_eq!(want.join(","), got, "{label}: sequence");
                    compared += 1;
                }
            }
            Value::Array(items) if key == "segments" => {
                for (i, seg) in items.iter().enumerate() {
                    let Some(seg) = seg.as_object() else { continue };
                    for (k, mk) in [
                        ("aa", "symbol"),
                        ("bbbb", "dimension"),
                        ("ccccc", "value"),
                        ("d", "decimals"),
                        ("ee", "reserved"),
                    ] {
                        if let (Some(v), Some(got)) = (
                            seg.get(k).and_then(Value::as_str),
                            lookup(mine, &format!("segment{}_{mk}", i + 1)),
                        ) {
                            assert_eq!(v, got, "{label}: segment {i} {k}");
                            compared += 1;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    compared
}

fn check_parts(label: &str, expected: &Map<String, Value>, structures: &[DataStructure]) {
    let Some(parts) = expected.get("parts").and_then(Value::as_array) else {
        return;
    };
    let mut encoded = Vec::new();
    for s in structures {
        if let DataStructure::CompoundMessage(c) = s {
            encoded.push(format!("=+{}", c.header()));
            encoded.extend(c.structures().iter().map(DataStructure::encode));
        } else {
            encoded.push(s.encode());
        }
    }
    let want: Vec<String> = parts
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    assert_eq!(want, encoded, "{label}: parts");
}

fn expected_check(v: &Value) -> Option<String> {
    v.get("check_char")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn fields_of(v: &Value) -> Map<String, Value> {
    v.get("fields")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn run_valid(label: &str, form: Form, input: &str, v: &Value) -> usize {
    let fields = fields_of(v);
    let k = expected_check(v);
    match form {
        Form::WithDi(id) => {
            let s = parse(input).unwrap_or_else(|e| panic!("{label}: rejected: {e}"));
            if let Some(id) = id {
                assert_eq!(s.id(), id, "{label}: structure");
            }
            assert_eq!(s.encode(), input, "{label}: round trip");
            assert_eq!(isbt128::encode(&s), input, "{label}: round trip (fn)");
            let scan = parse_scan(input).unwrap_or_else(|e| panic!("{label}: scan rejected: {e}"));
            assert_eq!(scan.encode(), input, "{label}: scan round trip");
            check_parts(label, &fields, std::slice::from_ref(&s));
            if let Some(k) = k {
                check_k(label, &s, &k);
            }
            compare_fields(label, Some(s.id()), &fields, &s.fields())
        }
        Form::Content(id) => {
            let s = parse_content(id, input).unwrap_or_else(|e| panic!("{label}: rejected: {e}"));
            assert_eq!(s.id(), id, "{label}: structure");
            assert_eq!(s.content(), input, "{label}: content round trip");
            // The same content with its data identifier parses to the same value.
            let with_di = format!("{}{}", id.data_identifier(), input);
            let with_di = if id == StructureId::Din {
                format!("={input}")
            } else {
                with_di
            };
            assert_eq!(parse(&with_di).as_ref(), Ok(&s), "{label}: with DI");
            if let Some(k) = k {
                check_k(label, &s, &k);
            }
            let mut mine = s.fields();
            mine.push(("content".to_owned(), s.content()));
            compare_fields(label, Some(id), &fields, &mine)
        }
        Form::Keyed => {
            let d = parse_keyed_din(input).unwrap_or_else(|e| panic!("{label}: rejected: {e}"));
            assert_eq!(d.to_string(), input, "{label}: round trip");
            if let Some(k) = k {
                assert_eq!(d.din.check_character().to_string(), k, "{label}: K");
            }
            compare_fields(
                label,
                Some(StructureId::Din),
                &fields,
                &din_fields(&d.din, d.check_character),
            )
        }
        Form::DinK => {
            let d = isbt128::Din::parse(input).unwrap_or_else(|e| panic!("{label}: rejected: {e}"));
            assert_eq!(d.to_string(), input, "{label}: round trip");
            let k = k.expect("DIN K vectors give K");
            assert_eq!(d.check_character().to_string(), k, "{label}: K");
            assert_eq!(
                check_character(input).map(String::from),
                Ok(k.clone()),
                "{label}: K (generic)"
            );
            assert!(
                isbt128::verify(&format!("{input}{k}")).is_ok(),
                "{label}: verify"
            );
            if let Some(cs) = fields.get("checksum_value").and_then(Value::as_u64) {
                assert_eq!(u64::from(d.checksum()), cs, "{label}: checksum value");
            }
            if let Some(f) = fields.get("type3_flag").and_then(Value::as_str) {
                assert_eq!(d.check_flags().as_str(), f, "{label}: type-3 flags");
                // The DS001 bar code with those flags parses and round-trips.
                let bar = format!("={input}{f}");
                assert_eq!(
                    parse(&bar).map(|s| s.encode()),
                    Ok(bar.clone()),
                    "{label}: type-3 bar code"
                );
            }
            let mut c = compare_fields(
                label,
                Some(StructureId::Din),
                &fields,
                &din_fields(&d, None),
            );
            c += 1;
            c
        }
        Form::Mod372 => {
            let k = k.expect("MOD 37-2 vectors give K");
            assert_eq!(
                check_character(input).map(String::from),
                Ok(k.clone()),
                "{label}: K"
            );
            if let Some(cs) = fields.get("checksum_value").and_then(Value::as_u64) {
                assert_eq!(
                    isbt128::checksum(input).map(u64::from),
                    Ok(cs),
                    "{label}: checksum value"
                );
            }
            1
        }
        Form::BasicUdiDi => {
            let b = BasicUdiDi::parse(input).unwrap_or_else(|e| panic!("{label}: rejected: {e}"));
            assert_eq!(b.to_string(), input, "{label}: round trip");
            if let Some(k) = k {
                assert_eq!(format!("{:02}", b.checksum()), k, "{label}: checksum");
            }
            let mut mine = b.ppic().fields();
            mine.push(("checksum".to_owned(), format!("{:02}", b.checksum())));
            compare_fields(label, Some(StructureId::Ppic), &fields, &mine)
        }
        Form::SecText => {
            let t = SecText::parse(input).unwrap_or_else(|e| panic!("{label}: rejected: {e}"));
            assert_eq!(t.to_string(), input, "{label}: round trip");
            compare_fields(label, Some(StructureId::Sec), &fields, &t.sec().fields())
        }
        Form::SecProduct => {
            let p = SecProductIdentification::parse(input)
                .unwrap_or_else(|e| panic!("{label}: rejected: {e}"));
            assert_eq!(p.to_string(), input, "{label}: round trip");
            let mine = vec![
                ("coding_system".to_owned(), p.coding_system().to_string()),
                ("product_code".to_owned(), p.product_code().to_owned()),
                ("split".to_owned(), p.split().to_owned()),
                ("expiry".to_owned(), p.expiry().to_owned()),
            ];
            compare_fields(label, Some(StructureId::Sec), &fields, &mine)
        }
        Form::Concatenated => {
            let scan = parse_scan(input).unwrap_or_else(|e| panic!("{label}: rejected: {e}"));
            assert_eq!(scan.encode(), input, "{label}: round trip");
            check_parts(label, &fields, &scan.structures);
            1
        }
        Form::Any => panic!("{label}: a valid vector for any structure is not expected"),
    }
}

fn din_fields(d: &isbt128::Din, keyed: Option<char>) -> Vec<(String, String)> {
    let mut out = vec![
        ("fin".to_owned(), d.fin().to_string()),
        ("year".to_owned(), format!("{:02}", d.year())),
        ("sequence".to_owned(), format!("{:06}", d.sequence())),
        (
            "check_char".to_owned(),
            keyed.unwrap_or(d.check_character()).to_string(),
        ),
        (
            "correct_check_char".to_owned(),
            d.check_character().to_string(),
        ),
    ];
    if let Some(k) = keyed {
        out.push(("check_character".to_owned(), k.to_string()));
    }
    out
}

fn check_k(label: &str, s: &DataStructure, k: &str) {
    match s.id() {
        StructureId::Grid => {
            let f = s.fields();
            assert_eq!(lookup(&f, "checksum"), Some(k), "{label}: GRID checksum");
        }
        _ => assert_eq!(
            s.check_character().map(String::from).as_deref(),
            Some(k),
            "{label}: K"
        ),
    }
}

/// The fault an invalid vector's notes describe, when recognisable.
#[derive(Debug, PartialEq)]
enum Fault {
    Character,
    Length,
    Range,
    Check,
    Count,
    NotIsbt,
    Empty,
    Unknown,
}

fn expected_fault(notes: &str) -> Fault {
    let n = notes.to_ascii_lowercase();
    let has = |w: &str| n.contains(w);
    if has("empty") {
        Fault::Empty
    } else if has("does not start with") {
        Fault::NotIsbt
    } else if has("declared count") {
        Fault::Count
    } else if has("day ") || has("hour") || has("minute") || has("month") || has("ordinal") {
        Fault::Range
    } else if has("truncated")
        || has("instead of")
        || has("characters (din is")
        || has("length")
        || has("legacy")
    {
        Fault::Length
    } else if has("transposition")
        || has("twin")
        || has("transcription")
        || has("does not match")
        || has("not congruent")
        || has("circular shift")
        || has("checksum")
    {
        Fault::Check
    } else if has("lowercase")
        || has("non-digit")
        || has("letter in")
        || has("first character")
        || has(" o in ")
        || has("no mod 37-2 value")
    {
        Fault::Character
    } else {
        Fault::Unknown
    }
}

fn fault_of(kind: &ErrorKind) -> Fault {
    match kind {
        ErrorKind::UnexpectedCharacter { .. } => Fault::Character,
        ErrorKind::UnexpectedEnd { .. } | ErrorKind::TrailingCharacters { .. } => Fault::Length,
        ErrorKind::OutOfRange { .. } => Fault::Range,
        ErrorKind::CheckMismatch { .. } => Fault::Check,
        ErrorKind::CompoundCount { .. } => Fault::Count,
        ErrorKind::UnknownDataIdentifier { .. } => Fault::NotIsbt,
        ErrorKind::Empty => Fault::Empty,
        _ => Fault::Unknown,
    }
}

fn assert_fault(label: &str, e: &ParseError, want: &Fault, input: &str) {
    assert!(!e.to_string().is_empty());
    assert!(
        e.position() <= input.chars().count(),
        "{label}: position {} beyond input",
        e.position()
    );
    let got = fault_of(e.kind());
    let ok = match want {
        Fault::Unknown => true,
        // A circularly shifted or transposed DIN may already break the layout.
        Fault::Check => matches!(got, Fault::Check | Fault::Character),
        // A missing character may show up as a character of the next element.
        Fault::Length => matches!(got, Fault::Length | Fault::Character),
        other => *other == got,
    };
    assert!(
        ok,
        "{label}: expected a {want:?} fault, got {e} ({:?})",
        e.kind()
    );
}

fn run_invalid(label: &str, form: Form, input: &str, v: &Value) {
    let notes = v.get("notes").and_then(Value::as_str).unwrap_or("");
    let want = expected_fault(notes);
    match form {
        Form::WithDi(id) => {
            let e = parse(input).expect_err(label);
            assert_fault(label, &e, &want, input);
            if let Some(id) = id {
                let named = e.structure();
                assert!(
                    named == Some(id)
                        || (id == StructureId::ExpirationDate
                            && named == Some(StructureId::ExpirationDateTime)),
                    "{label}: error names {named:?}, expected {id:?}: {e}"
                );
            }
            if want == Fault::Count {
                let fields = fields_of(v);
                let declared = fields.get("declared").and_then(Value::as_u64);
                let actual = fields.get("actual").and_then(Value::as_u64);
                if let ErrorKind::CompoundCount { declared: d, found } = e.kind() {
                    assert_eq!(declared, Some(*d as u64), "{label}: declared");
                    assert_eq!(actual, Some(*found as u64), "{label}: actual");
                }
            }
            assert!(parse_scan(input).is_err(), "{label}: scan accepted");
        }
        Form::Content(id) => {
            let e = parse_content(id, input).expect_err(label);
            assert_fault(label, &e, &want, input);
            assert_eq!(e.structure(), Some(id), "{label}: structure");
        }
        Form::Keyed | Form::DinK => {
            let e = parse_keyed_din(input).expect_err(label);
            assert_fault(label, &e, &want, input);
            assert_eq!(e.structure(), Some(StructureId::Din), "{label}: structure");
            if let Some(k) = fields_of(v)
                .get("correct_check_char")
                .and_then(Value::as_str)
            {
                if let ErrorKind::CheckMismatch { expected, .. } = e.kind() {
                    assert_eq!(expected, k, "{label}: expected K");
                }
            }
        }
        Form::Mod372 => {
            let e = check_character(input).expect_err(label);
            if want == Fault::Character {
                assert!(
                    matches!(e, CheckError::InvalidCharacter { .. }),
                    "{label}: {e}"
                );
            }
        }
        Form::BasicUdiDi => {
            let e = BasicUdiDi::parse(input).expect_err(label);
            assert!(
                matches!(e.kind(), ErrorKind::CheckMismatch { .. }) || want != Fault::Unknown,
                "{label}: {e}"
            );
            if let Some(k) = fields_of(v)
                .get("expected_checksum")
                .and_then(Value::as_str)
            {
                if let ErrorKind::CheckMismatch { expected, .. } = e.kind() {
                    assert_eq!(expected, k, "{label}: expected checksum");
                }
            }
        }
        Form::SecText => {
            let e = SecText::parse(input).expect_err(label);
            assert_fault(label, &e, &want, input);
            assert_eq!(e.structure(), Some(StructureId::Sec), "{label}: structure");
        }
        Form::SecProduct => {
            let e = SecProductIdentification::parse(input).expect_err(label);
            assert_fault(label, &e, &want, input);
        }
        Form::Concatenated | Form::Any => {
            let e = parse_scan(input).expect_err(label);
            assert_fault(label, &e, &want, input);
            assert!(parse(input).is_err(), "{label}: parse accepted");
        }
    }
}

#[test]
fn every_vector_behaves_as_documented() {
    for path in vector_files() {
        let vectors = load(&path);
        assert!(!vectors.is_empty(), "{}: no vectors", path.display());
        let (mut valid, mut invalid, mut compared) = (0usize, 0usize, 0usize);
        for (i, v) in vectors.iter().enumerate() {
            let input = v.get("input").and_then(Value::as_str).expect("input");
            let structure = v
                .get("structure")
                .and_then(Value::as_str)
                .expect("structure");
            let is_valid = v.get("valid").and_then(Value::as_bool).expect("valid");
            let label = format!("{} #{i} {input:?} [{structure}]", path.display());
            let form = classify(structure);
            if is_valid {
                compared += run_valid(&label, form, input, v);
                valid += 1;
            } else {
                run_invalid(&label, form, input, v);
                invalid += 1;
            }
        }
        println!(
            "{}: {valid} valid, {invalid} invalid, {compared} fields compared",
            path.display()
        );
        assert!(valid > 0 && invalid > 0);
        assert!(
            compared >= valid,
            "{}: too few fields compared ({compared})",
            path.display()
        );
    }
}

#[test]
fn bundled_copy_matches_count() {
    let vectors =
        load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/isbt128_vectors.json"));
    assert_eq!(vectors.len(), 120);
}
