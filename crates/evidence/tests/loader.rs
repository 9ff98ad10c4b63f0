//! The loader refuses malformed or inconsistent files and names the file,
//! the line and the field.

use celltrace_domain::model::{EvidenceStatus, ProductType};
use celltrace_evidence::{
    DataFile, EvidenceData, EvidenceError, RuleMatch, SHIPPED_INDICATIONS as IND, SHIPPED_PRODUCTS as PROD,
    SHIPPED_STATUS as STATUS,
};

/// 1-based line of the first occurrence of `needle` at or after line `from`.
fn line_of(text: &str, needle: &str, from: usize) -> usize {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("'{needle}' not in the text"))
}

/// Replaces the first occurrence of `from` after the line containing `anchor`.
fn replace_after(text: &str, anchor: &str, from: &str, to: &str) -> String {
    let start = text.find(anchor).expect("anchor");
    let at = start + text[start..].find(from).expect("text after anchor");
    format!("{}{}{}", &text[..at], to, &text[at + from.len()..])
}

fn err(ind: &str, status: &str, prod: &str) -> EvidenceError {
    match EvidenceData::parse(ind, status, prod) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    }
}

#[test]
fn shipped_data_parses() {
    let d = EvidenceData::shipped().expect("shipped data");
    assert_eq!(d.version(), "2026.01.1");
    assert!(d.indications().len() >= 20);
    assert_eq!(d.products().len(), 69);
    let back = d.indication("chronic-low-back-pain").expect("back pain");
    assert_eq!(back.to_domain().icd10, "M54.50");
    assert_eq!(d.indication_by_code("D61.9").map(|i| i.id.as_str()), Some("blood-disorders"));
    // A more specific code falls under its listed parent category.
    assert_eq!(d.indication_by_code("m51.36").map(|i| i.id.as_str()), Some("chronic-low-back-pain"));
    assert!(d.indication_by_code("Z00.0").is_none());
    assert!(d.indication_by_code("").is_none());
    assert!(d.indication("no-such-thing").is_none());
    assert!(d.rating("no-such-thing", ProductType::Prp).is_none());
    // Which rule applied.
    assert_eq!(d.resolve("hair-loss", ProductType::MscExosome).map(|(_, m)| m), Some(RuleMatch::Explicit));
    assert_eq!(
        d.resolve("lupus", ProductType::EmbryonicDerived).map(|(r, m)| (r.status, m)),
        Some((EvidenceStatus::ResearchOnly, RuleMatch::Default { product_type: Some(ProductType::EmbryonicDerived), group: None }))
    );
    assert_eq!(
        d.resolve("blood-disorders", ProductType::CordBloodHpc).map(|(r, m)| (r.status, m)),
        Some((
            EvidenceStatus::Approved,
            RuleMatch::Default { product_type: Some(ProductType::CordBloodHpc), group: Some("blood-forming".into()) }
        ))
    );
    assert_eq!(
        d.resolve("autism", ProductType::Prp).map(|(r, m)| (r.status, m)),
        Some((EvidenceStatus::Unproven, RuleMatch::Default { product_type: None, group: None }))
    );
}

#[test]
fn bad_status_word() {
    let anchor = "indication = \"lupus\"";
    let status = replace_after(STATUS, anchor, "status = \"unproven\"", "status = \"aproved\"");
    let line = line_of(&status, "status = \"aproved\"", 1);
    let e = err(IND, &status, PROD);
    assert_eq!(
        e.to_string(),
        format!("status.toml line {line}, field `status`: 'aproved' is not one of approved, investigational, unproven, research-only")
    );
}

#[test]
fn unknown_indication_in_a_row() {
    let status = STATUS.replacen("indication = \"lupus\"", "indication = \"lupsu\"", 1);
    let line = line_of(&status, "\"lupsu\"", 1);
    let e = err(IND, &status, PROD);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Status, line, "indication"));
    assert!(e.message.contains("'lupsu' is not an indication"), "{e}");
}

#[test]
fn unknown_product_type_in_a_row() {
    let status = replace_after(STATUS, "indication = \"lupus\"", "\"allogeneic-msc\"", "\"exosomes\"");
    let line = line_of(&status, "\"exosomes\"", 1);
    let e = err(IND, &status, PROD);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Status, line, "product_type"));
    assert!(e.message.starts_with("'exosomes' is not one of autologous-adipose,"), "{e}");
}

#[test]
fn indication_without_code() {
    let ind = IND.replacen("icd10 = [\"M06.9\"]\n", "", 1);
    let line = line_of(&ind, "id = \"rheumatoid-arthritis\"", 1);
    let e = err(&ind, STATUS, PROD);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Indications, line, "icd10"));
    assert!(e.message.contains("'rheumatoid-arthritis' has no ICD-10-CM code"), "{e}");

    let ind = IND.replacen("icd10 = [\"M06.9\"]", "icd10 = []", 1);
    let e = err(&ind, STATUS, PROD);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Indications, line_of(&ind, "icd10 = []", 1), "icd10"));
}

#[test]
fn malformed_code() {
    let ind = IND.replacen("\"M06.9\"", "\"M6.9\"", 1);
    let e = err(&ind, STATUS, PROD);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Indications, line_of(&ind, "\"M6.9\"", 1), "icd10"));
    assert!(e.message.contains("'M6.9' is not an ICD-10-CM code"), "{e}");
}

#[test]
fn duplicate_status_row() {
    let row = "\n[[row]]\nindication = \"lupus\"\nproduct_type = \"allogeneic-msc\"\nstatus = \"unproven\"\nsummary = \"again\"\nsources = [\"x\"]\n";
    let status = format!("{STATUS}{row}");
    let first = line_of(&status, "indication = \"lupus\"", 1);
    let second = line_of(&status, "indication = \"lupus\"", first + 1);
    let e = err(IND, &status, PROD);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Status, second, "indication"));
    assert!(e.message.contains(&format!("already given at line {first}")), "{e}");
}

#[test]
fn duplicate_default() {
    let d = "\n[[default]]\nproduct_type = \"msc-exosome\"\nstatus = \"unproven\"\nsummary = \"again\"\nsources = [\"x\"]\n";
    let status = STATUS.replacen("\n[[row]]", &format!("{d}\n[[row]]"), 1);
    let e = err(IND, &status, PROD);
    assert_eq!((e.file, e.field.as_str()), (DataFile::Status, "product_type"));
    assert!(e.message.contains("already given at line"), "{e}");
}

#[test]
fn duplicate_indication() {
    let ind = format!("{IND}\n[[indication]]\nid = \"lupus\"\nname = \"Lupus\"\ngroup = \"autoimmune\"\nicd10 = [\"M32.9\"]\ncode_source = \"celltrace\"\n");
    let first = line_of(&ind, "id = \"lupus\"", 1);
    let second = line_of(&ind, "id = \"lupus\"", first + 1);
    let e = err(&ind, STATUS, PROD);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Indications, second, "id"));
    assert!(e.message.contains(&format!("first at line {first}")), "{e}");
}

#[test]
fn approved_needs_an_approved_product() {
    let status = replace_after(STATUS, "indication = \"lupus\"", "status = \"unproven\"", "status = \"approved\"");
    let e = err(IND, &status, PROD);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Status, line_of(&status, "status = \"approved\"", line_of(&status, "\"lupus\"", 1)), "status"));
    assert!(e.message.contains("'lupus' in its indication_ids"), "{e}");
    // Withdrawing the backing product refuses the approved row too.
    let prod = PROD.replace("status = \"approved\"\nsource = \"https://pharmacytimes.com", "status = \"withdrawn\"\nsource = \"https://pharmacytimes.com");
    assert_ne!(prod, PROD);
    // ... and so does taking Temcell and Prochymal out of the catalogue type.
    let prod = prod.replace("catalogue_type = \"allogeneic-msc\"\nindications = [\n  \"Acute graft", "indications = [\n  \"Acute graft");
    let e = err(IND, STATUS, &prod);
    assert_eq!((e.file, e.field.as_str()), (DataFile::Status, "status"));
    assert!(e.message.contains("'gvhd'"), "{e}");
}

#[test]
fn catch_all_default_is_required() {
    let start = STATUS.find("[[default]]\nstatus = \"unproven\"").expect("catch-all");
    let end = start + STATUS[start..].find("\n\n").expect("end of table");
    let status = format!("{}{}", &STATUS[..start], &STATUS[end..]);
    let e = err(IND, &status, PROD);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Status, 1, "default"));
    assert!(e.message.contains("catch-all"), "{e}");
}

#[test]
fn versions_must_agree() {
    let status = STATUS.replacen("version = \"2026.01.1\"", "version = \"2026.02\"", 1);
    let e = err(IND, &status, PROD);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Status, line_of(&status, "version = ", 1), "version"));
}

#[test]
fn unknown_and_mistyped_fields() {
    let status = replace_after(STATUS, "indication = \"lupus\"", "summary =", "sumary =");
    let e = err(IND, &status, PROD);
    assert_eq!((e.file, e.field.as_str()), (DataFile::Status, "sumary"), "{e}");
    assert!(e.line > 1, "{e}");

    let prod = PROD.replacen("year_approved = 2011", "year_approved = \"2011\"", 1);
    let e = err(IND, STATUS, &prod);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Products, line_of(&prod, "year_approved = \"2011\"", 1), "year_approved"), "{e}");
}

#[test]
fn toml_syntax_error_names_the_line() {
    let ind = IND.replacen("name = \"Knee osteoarthritis\"", "name = \"Knee osteoarthritis", 1);
    let e = err(&ind, STATUS, PROD);
    assert_eq!(e.file, DataFile::Indications);
    assert_eq!(e.line, line_of(&ind, "name = \"Knee osteoarthritis", 1), "{e}");
}

#[test]
fn product_errors() {
    let prod = PROD.replacen("status = \"approved\"", "status = \"aproved\"", 1);
    let e = err(IND, STATUS, &prod);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Products, line_of(&prod, "\"aproved\"", 1), "status"));
    assert!(e.message.contains("is not one of approved, conditionally approved"), "{e}");

    let prod = PROD.replacen("\"sickle-cell-disease\"]", "\"sickle-cell\"]", 1);
    let e = err(IND, STATUS, &prod);
    assert_eq!((e.file, e.line, e.field.as_str()), (DataFile::Products, line_of(&prod, "\"sickle-cell\"]", 1), "indication_ids"));

    let prod = PROD.replacen("catalogue_type = \"cord-blood-hpc\"", "catalogue_type = \"cord-blood\"", 1);
    let e = err(IND, STATUS, &prod);
    assert_eq!((e.file, e.field.as_str()), (DataFile::Products, "catalogue_type"));
}

#[test]
fn empty_and_garbage_files() {
    assert_eq!(err("", STATUS, PROD).file, DataFile::Indications);
    assert_eq!(err(IND, "", PROD).file, DataFile::Status);
    assert_eq!(err(IND, STATUS, "").file, DataFile::Products);
    let e = err("version = \"1\"\n", STATUS, PROD);
    assert_eq!((e.file, e.field.as_str()), (DataFile::Indications, "indication"));
    let e = err("\u{0}\u{ffff}[[[", STATUS, PROD);
    assert_eq!((e.file, e.line), (DataFile::Indications, 1));
}
