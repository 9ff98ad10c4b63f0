//! `celltrace evidence`: rate an indication and product type from the command
//! line, and load new evidence data files into the ledger. Checking needs no
//! database; loading validates all three files before anything is recorded.

use celltrace_domain::model::{EvidenceStatus, ProductType};
use celltrace_evidence::{parse_product_type, EvidenceData, RuleMatch, PRODUCT_TYPES};
use serde_json::{json, Value};
use std::path::Path;

/// The three files of an evidence dataset, read from `dir`.
pub struct EvidenceFiles {
    /// `indications.toml`.
    pub indications: String,
    /// `status.toml`.
    pub status: String,
    /// `approved_products.toml`.
    pub approved_products: String,
}

impl EvidenceFiles {
    /// Reads the files; a missing one is named.
    pub fn read(dir: &Path) -> Result<EvidenceFiles, String> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        Ok(EvidenceFiles { indications: read("indications.toml")?, status: read("status.toml")?, approved_products: read("approved_products.toml")? })
    }

    /// Parses and checks the files; errors name the file, line and field.
    pub fn parse(&self) -> Result<EvidenceData, String> {
        EvidenceData::parse(&self.indications, &self.status, &self.approved_products).map_err(|e| e.to_string())
    }
}

fn status_word(status: EvidenceStatus) -> &'static str {
    match status {
        EvidenceStatus::Approved => "approved",
        EvidenceStatus::Investigational => "investigational",
        EvidenceStatus::Unproven => "unproven",
        EvidenceStatus::ResearchOnly => "research-only",
    }
}

/// What the guard does with a plan of this status (the brief's rule).
fn guard_rule(status: EvidenceStatus) -> &'static str {
    match status {
        EvidenceStatus::Approved => "proceeds",
        EvidenceStatus::Investigational => {
            "proceeds only inside a registered trial: a trial registration number (NCT and 8 digits), an ethics approval reference and a trial-specific consent"
        }
        EvidenceStatus::Unproven => {
            "blocked unless inside a registered trial, or the site's policy permits unproven treatment and the medical director e-signs an override and the patient signs an acknowledgement of the plain-language warning"
        }
        EvidenceStatus::ResearchOnly => "never proceeds outside a registered trial",
    }
}

/// The rating of `code` (ICD-10-CM) and `product` (a product type identifier)
/// as one JSON object, or an error naming the known codes or types.
pub fn check(data: &EvidenceData, code: &str, product: &str) -> Result<Value, String> {
    let Some(product_type) = parse_product_type(product.trim()) else {
        let known: Vec<&str> = PRODUCT_TYPES.iter().map(|p| p.code()).collect();
        return Err(format!("unknown product type '{product}'; known product types: {}", known.join(", ")));
    };
    let Some(indication) = data.indication_by_code(code) else {
        let known: Vec<String> = data.indications().iter().map(|i| format!("{} ({})", i.icd10.join(", "), i.name)).collect();
        return Err(format!("no indication with ICD-10-CM code '{code}'; known codes:\n  {}", known.join("\n  ")));
    };
    let Some((rule, matched)) = data.resolve(&indication.id, product_type) else {
        return Err(format!("the evidence data has no rule for {} and {product}", indication.id));
    };
    let applied = match matched {
        RuleMatch::Explicit => json!({ "kind": "explicit", "indication": indication.id, "product_type": product_type.code() }),
        RuleMatch::Default { product_type: p, group } => json!({
            "kind": "default",
            "product_type": p.map(ProductType::code),
            "indication_group": group,
        }),
    };
    let approved: Vec<Value> = data
        .approved_products_for(&indication.id)
        .into_iter()
        .filter(|p| p.catalogue_type == Some(product_type))
        .map(|p| json!({ "name": p.name, "regulator": p.regulator, "year": p.year_approved, "source": p.source }))
        .collect();
    Ok(json!({
        "indication": { "code": code.trim().to_ascii_uppercase(), "id": indication.id, "name": indication.name },
        "product_type": product_type.code(),
        "status": status_word(rule.status),
        "rule": applied,
        "guard": guard_rule(rule.status),
        "summary": rule.summary,
        "sources": rule.sources,
        "approved_products": approved,
        "data_version": data.version(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> EvidenceData {
        EvidenceData::shipped().expect("shipped data")
    }

    #[test]
    fn cord_blood_for_a_blood_disorder_is_approved_with_its_products() {
        let v = check(&shipped(), "D61.9", "cord-blood-hpc").expect("known pair");
        assert_eq!(v["status"], "approved");
        assert_eq!(v["guard"], "proceeds");
        assert!(v["approved_products"].as_array().is_some_and(|a| !a.is_empty()), "{v}");
        assert!(v["sources"].as_array().is_some_and(|a| !a.is_empty()));
    }

    #[test]
    fn the_usual_clinic_offers_are_unproven_or_research_only() {
        let data = shipped();
        assert_eq!(check(&data, "M54.50", "autologous-adipose").expect("pair")["status"], "unproven");
        assert_eq!(check(&data, "L64.9", "msc-exosome").expect("pair")["status"], "unproven");
        assert_eq!(check(&data, "M54.50", "embryonic-derived").expect("pair")["status"], "research-only");
    }

    #[test]
    fn unknown_codes_and_types_name_the_known_ones() {
        let data = shipped();
        let e = check(&data, "Z99.99", "prp").expect_err("unknown code");
        assert!(e.contains("known codes") && e.contains("M54.50"), "{e}");
        let e = check(&data, "M54.50", "stem-cells").expect_err("unknown type");
        assert!(e.contains("known product types") && e.contains("msc-exosome"), "{e}");
    }
}
