//! The checked evidence data and its look-ups.

use std::collections::{BTreeMap, BTreeSet};

use celltrace_domain::model::{EvidenceRating, EvidenceStatus, Indication, ProductType};
use toml::Spanned;

use crate::error::{from_toml, line_of, DataFile, EvidenceError};
use crate::raw::{RawDefault, RawIndications, RawProducts, RawStatus, Text};

/// Every catalogue product type, in catalogue order.
pub const PRODUCT_TYPES: [ProductType; 7] = ProductType::ALL;

/// The product type with this catalogue identifier (e.g. `msc-exosome`).
#[must_use]
pub fn parse_product_type(code: &str) -> Option<ProductType> {
    PRODUCT_TYPES.into_iter().find(|p| p.code() == code)
}

const STATUS_WORDS: &str = "approved, investigational, unproven, research-only";

fn parse_status(word: &str) -> Option<EvidenceStatus> {
    match word {
        "approved" => Some(EvidenceStatus::Approved),
        "investigational" => Some(EvidenceStatus::Investigational),
        "unproven" => Some(EvidenceStatus::Unproven),
        "research-only" => Some(EvidenceStatus::ResearchOnly),
        _ => None,
    }
}

/// Where an indication's ICD-10-CM codes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSource {
    /// Given by the evidence reference.
    Reference,
    /// Not in the reference: celltrace chose the well-known ICD-10-CM category.
    Celltrace,
}

/// A condition seen in practice, with its ICD-10-CM codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicationEntry {
    /// Stable identifier, e.g. `chronic-low-back-pain`.
    pub id: String,
    /// Name for people.
    pub name: String,
    /// Group used by default rules, e.g. `blood-forming`.
    pub group: String,
    /// ICD-10-CM codes, the usual one first.
    pub icd10: Vec<String>,
    /// Where the codes come from.
    pub code_source: CodeSource,
    /// Remark for staff, if any.
    pub note: Option<String>,
}

impl IndicationEntry {
    /// The usual ICD-10-CM code (the first listed).
    #[must_use]
    pub fn primary_code(&self) -> &str {
        self.icd10.first().map_or("", String::as_str)
    }

    /// The domain's [`Indication`] for a plan: the usual code and the name.
    #[must_use]
    pub fn to_domain(&self) -> Indication {
        Indication { icd10: self.primary_code().to_owned(), name: self.name.clone() }
    }
}

/// Authorisation status of an approved product, as the reference gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductStatus {
    /// Authorised.
    Approved,
    /// Time-limited or conditional authorisation.
    ConditionallyApproved,
    /// Authorisation withdrawn.
    Withdrawn,
    /// Authorisation not renewed.
    Expired,
    /// Current status could not be confirmed.
    Unconfirmed,
}

const PRODUCT_STATUS_WORDS: &str = "approved, conditionally approved, withdrawn, expired, unconfirmed";

impl ProductStatus {
    fn parse(word: &str) -> Option<ProductStatus> {
        match word {
            "approved" => Some(ProductStatus::Approved),
            "conditionally approved" => Some(ProductStatus::ConditionallyApproved),
            "withdrawn" => Some(ProductStatus::Withdrawn),
            "expired" => Some(ProductStatus::Expired),
            "unconfirmed" => Some(ProductStatus::Unconfirmed),
            _ => None,
        }
    }

    /// The word used in the file, e.g. `conditionally approved`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Approved => "approved",
            ProductStatus::ConditionallyApproved => "conditionally approved",
            ProductStatus::Withdrawn => "withdrawn",
            ProductStatus::Expired => "expired",
            ProductStatus::Unconfirmed => "unconfirmed",
        }
    }

    /// Whether the authorisation is in force (approved or conditionally approved).
    #[must_use]
    pub fn in_force(self) -> bool {
        matches!(self, ProductStatus::Approved | ProductStatus::ConditionallyApproved)
    }
}

/// A product a regulator approved (or once approved), from the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovedProduct {
    /// Trade or common name, e.g. `Hemacord`.
    pub name: String,
    /// Proper (non-proprietary) name.
    pub proper_name: Option<String>,
    /// Regulator, e.g. `FDA`, `EMA`.
    pub regulator: String,
    /// Year of first approval.
    pub year_approved: i32,
    /// Approval date as reported by the source, with its caveats.
    pub approval_date_reported: Option<String>,
    /// The reference's description of the kind of product, e.g. `CAR-T (CD19)`.
    pub kind: Option<String>,
    /// `autologous`, `allogeneic` or `none`.
    pub cell_source: Option<String>,
    /// The catalogue product type it belongs to, when it is one of them.
    pub catalogue_type: Option<ProductType>,
    /// Approved indications, in plain words.
    pub indications: Vec<String>,
    /// The celltrace indications those correspond to.
    pub indication_ids: Vec<String>,
    /// Authorisation status.
    pub status: ProductStatus,
    /// Primary source read.
    pub source: String,
    /// Further sources.
    pub additional_sources: Vec<String>,
    /// Caveats from the reference.
    pub notes: Option<String>,
}

/// A status with its plain-language summary and sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRule {
    /// Status of the pair.
    pub status: EvidenceStatus,
    /// Plain summary for patients and staff.
    pub summary: String,
    /// Sources (URLs or citations).
    pub sources: Vec<String>,
}

/// Which rule gave a pair its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleMatch {
    /// A row naming this indication and product type.
    Explicit,
    /// A default rule; `None` fields match anything.
    Default {
        /// The product type the default is for.
        product_type: Option<ProductType>,
        /// The indication group the default is for.
        group: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct DefaultRule {
    product_type: Option<ProductType>,
    group: Option<String>,
    rule: StatusRule,
}

impl DefaultRule {
    fn matches(&self, group: &str, product_type: ProductType) -> bool {
        self.product_type.is_none_or(|p| p == product_type) && self.group.as_deref().is_none_or(|g| g == group)
    }

    /// More specific defaults win: type and group, then type, then group, then neither.
    fn specificity(&self) -> u8 {
        u8::from(self.product_type.is_some()) * 2 + u8::from(self.group.is_some())
    }
}

/// The checked evidence data: indications, status rules and approved products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceData {
    version: String,
    indications: Vec<IndicationEntry>,
    rows: BTreeMap<(String, ProductType), StatusRule>,
    defaults: Vec<DefaultRule>,
    products: Vec<ApprovedProduct>,
}

// ---------------------------------------------------------------------------
// Checks

fn text_value(file: DataFile, text: &str, value: &Text, field: &str) -> Result<String, EvidenceError> {
    let v = value.get_ref().trim();
    if v.is_empty() {
        return Err(EvidenceError::at(file, text, value.span().start, field, "must not be empty"));
    }
    Ok(v.to_owned())
}

fn sources(file: DataFile, text: &str, list: &Spanned<Vec<Text>>) -> Result<Vec<String>, EvidenceError> {
    if list.get_ref().is_empty() {
        return Err(EvidenceError::at(file, text, list.span().start, "sources", "give at least one source"));
    }
    list.get_ref().iter().map(|s| text_value(file, text, s, "sources")).collect()
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// ICD-10-CM shape: a letter, two characters (digit, then digit or letter),
/// then optionally a dot and 1 to 4 letters or digits (e.g. `M54.50`, `G35`).
fn is_icd10cm(code: &str) -> bool {
    let b = code.as_bytes();
    let head_ok = b.len() >= 3
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && (b[2].is_ascii_digit() || b[2].is_ascii_uppercase());
    if !head_ok {
        return false;
    }
    match b.get(3..) {
        None | Some([]) => true,
        Some([b'.', rest @ ..]) => {
            (1..=4).contains(&rest.len()) && rest.iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        }
        Some(_) => false,
    }
}

fn check_version(file: DataFile, text: &str, version: &Text, expected: Option<&str>) -> Result<String, EvidenceError> {
    let v = text_value(file, text, version, "version")?;
    if let Some(expected) = expected {
        if v != expected {
            return Err(EvidenceError::at(
                file,
                text,
                version.span().start,
                "version",
                format!("'{v}' differs from the version '{expected}' of indications.toml; the three files are updated together and carry the same version"),
            ));
        }
    }
    Ok(v)
}

fn product_type_value(file: DataFile, text: &str, value: &Text, field: &str) -> Result<ProductType, EvidenceError> {
    parse_product_type(value.get_ref().trim()).ok_or_else(|| {
        let names: Vec<&str> = PRODUCT_TYPES.iter().map(|p| p.code()).collect();
        EvidenceError::at(
            file,
            text,
            value.span().start,
            field,
            format!("'{}' is not one of {}", value.get_ref(), names.join(", ")),
        )
    })
}

fn status_value(text: &str, value: &Text) -> Result<EvidenceStatus, EvidenceError> {
    parse_status(value.get_ref().trim()).ok_or_else(|| {
        EvidenceError::at(
            DataFile::Status,
            text,
            value.span().start,
            "status",
            format!("'{}' is not one of {STATUS_WORDS}", value.get_ref()),
        )
    })
}

fn rule(text: &str, status: &Text, summary: &Text, list: &Spanned<Vec<Text>>) -> Result<StatusRule, EvidenceError> {
    let status = status_value(text, status)?;
    let summary_text = text_value(DataFile::Status, text, summary, "summary")?;
    if summary_text.chars().count() > 1200 {
        return Err(EvidenceError::at(
            DataFile::Status,
            text,
            summary.span().start,
            "summary",
            "keep the summary under 1200 characters: patients read it",
        ));
    }
    Ok(StatusRule { status, summary: summary_text, sources: sources(DataFile::Status, text, list)? })
}

fn parse_indications(text: &str) -> Result<(String, Vec<IndicationEntry>), EvidenceError> {
    const F: DataFile = DataFile::Indications;
    let raw: RawIndications = from_toml(F, text)?;
    let version = check_version(F, text, &raw.version, None)?;
    if raw.indication.is_empty() {
        return Err(EvidenceError::at(F, text, 0, "indication", "the file lists no [[indication]]"));
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(raw.indication.len());
    for ri in &raw.indication {
        let id = text_value(F, text, &ri.id, "id")?;
        if !is_id(&id) {
            return Err(EvidenceError::at(
                F,
                text,
                ri.id.span().start,
                "id",
                format!("'{id}' is not an identifier: use lower-case letters, digits and '-', e.g. knee-osteoarthritis"),
            ));
        }
        if let Some(first) = seen.insert(id.clone(), line_of(text, ri.id.span().start)) {
            return Err(EvidenceError::at(
                F,
                text,
                ri.id.span().start,
                "id",
                format!("indication '{id}' is listed twice (first at line {first}); keep one"),
            ));
        }
        let name = text_value(F, text, &ri.name, "name")?;
        let group = text_value(F, text, &ri.group, "group")?;
        if !is_id(&group) {
            return Err(EvidenceError::at(
                F,
                text,
                ri.group.span().start,
                "group",
                format!("'{group}' is not a group identifier: use lower-case letters, digits and '-'"),
            ));
        }
        let codes = match &ri.icd10 {
            Some(list) if !list.get_ref().is_empty() => list,
            Some(list) => {
                return Err(EvidenceError::at(
                    F,
                    text,
                    list.span().start,
                    "icd10",
                    format!("indication '{id}' has no ICD-10-CM code; give at least one"),
                ))
            }
            None => {
                return Err(EvidenceError::at(
                    F,
                    text,
                    ri.id.span().start,
                    "icd10",
                    format!("indication '{id}' has no ICD-10-CM code; add icd10 = [\"...\"]"),
                ))
            }
        };
        let mut icd10 = Vec::with_capacity(codes.get_ref().len());
        for c in codes.get_ref() {
            let code = c.get_ref().trim();
            if !is_icd10cm(code) {
                return Err(EvidenceError::at(
                    F,
                    text,
                    c.span().start,
                    "icd10",
                    format!("'{}' is not an ICD-10-CM code (a letter, two characters, then optionally '.' and up to 4 more, e.g. M54.50)", c.get_ref()),
                ));
            }
            icd10.push(code.to_owned());
        }
        let code_source = match ri.code_source.as_ref().map(|s| (s, s.get_ref().trim())) {
            Some((_, "reference")) => CodeSource::Reference,
            Some((_, "celltrace")) => CodeSource::Celltrace,
            Some((s, other)) => {
                return Err(EvidenceError::at(
                    F,
                    text,
                    s.span().start,
                    "code_source",
                    format!("'{other}' is not one of reference, celltrace"),
                ))
            }
            None => {
                return Err(EvidenceError::at(
                    F,
                    text,
                    ri.id.span().start,
                    "code_source",
                    format!("say where the codes of '{id}' come from: code_source = \"reference\" or \"celltrace\""),
                ))
            }
        };
        out.push(IndicationEntry { id, name, group, icd10, code_source, note: ri.note.clone() });
    }
    Ok((version, out))
}

fn parse_products(text: &str, version: &str, indications: &[IndicationEntry]) -> Result<Vec<ApprovedProduct>, EvidenceError> {
    const F: DataFile = DataFile::Products;
    let raw: RawProducts = from_toml(F, text)?;
    check_version(F, text, &raw.version, Some(version))?;
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(raw.product.len());
    for rp in &raw.product {
        let name = text_value(F, text, &rp.name, "name")?;
        let regulator = text_value(F, text, &rp.regulator, "regulator")?;
        if let Some(first) = seen.insert((name.clone(), regulator.clone()), line_of(text, rp.name.span().start)) {
            return Err(EvidenceError::at(
                F,
                text,
                rp.name.span().start,
                "name",
                format!("'{name}' ({regulator}) is listed twice (first at line {first}); keep one"),
            ));
        }
        let year = *rp.year_approved.get_ref();
        let year_approved = i32::try_from(year).ok().filter(|y| (1950..=2100).contains(y)).ok_or_else(|| {
            EvidenceError::at(F, text, rp.year_approved.span().start, "year_approved", format!("{year} is not a plausible year of approval"))
        })?;
        let status = ProductStatus::parse(rp.status.get_ref().trim()).ok_or_else(|| {
            EvidenceError::at(
                F,
                text,
                rp.status.span().start,
                "status",
                format!("'{}' is not one of {PRODUCT_STATUS_WORDS}", rp.status.get_ref()),
            )
        })?;
        let catalogue_type = match &rp.catalogue_type {
            Some(t) => Some(product_type_value(F, text, t, "catalogue_type")?),
            None => None,
        };
        if rp.indications.get_ref().is_empty() {
            return Err(EvidenceError::at(F, text, rp.indications.span().start, "indications", "list at least one approved indication"));
        }
        let described = rp
            .indications
            .get_ref()
            .iter()
            .map(|i| text_value(F, text, i, "indications"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut indication_ids = Vec::with_capacity(rp.indication_ids.len());
        for i in &rp.indication_ids {
            let id = i.get_ref().trim();
            if !indications.iter().any(|e| e.id == id) {
                return Err(EvidenceError::at(
                    F,
                    text,
                    i.span().start,
                    "indication_ids",
                    format!("'{}' is not an indication of indications.toml", i.get_ref()),
                ));
            }
            indication_ids.push(id.to_owned());
        }
        let source = text_value(F, text, &rp.source, "source")?;
        out.push(ApprovedProduct {
            name,
            proper_name: rp.proper_name.clone(),
            regulator,
            year_approved,
            approval_date_reported: rp.approval_date_reported.clone(),
            kind: rp.kind.clone(),
            cell_source: rp.cell_source.clone(),
            catalogue_type,
            indications: described,
            indication_ids,
            status,
            source,
            additional_sources: rp.additional_sources.clone(),
            notes: rp.notes.clone(),
        });
    }
    Ok(out)
}

/// An `approved` status must be backed by an in-force product of that type
/// for that indication.
fn backed(products: &[ApprovedProduct], indication: &str, product_type: ProductType) -> bool {
    products.iter().any(|p| {
        p.status.in_force() && p.catalogue_type == Some(product_type) && p.indication_ids.iter().any(|i| i == indication)
    })
}

fn not_backed(text: &str, at: usize, indication: &str, product_type: ProductType) -> EvidenceError {
    EvidenceError::at(
        DataFile::Status,
        text,
        at,
        "status",
        format!(
            "'approved' needs a product in approved_products.toml with catalogue_type = \"{}\", an approved status and '{indication}' in its indication_ids; there is none",
            product_type.code()
        ),
    )
}

fn parse_default(
    text: &str,
    rd: &RawDefault,
    groups: &BTreeSet<&str>,
) -> Result<DefaultRule, EvidenceError> {
    const F: DataFile = DataFile::Status;
    let product_type = match &rd.product_type {
        Some(t) => Some(product_type_value(F, text, t, "product_type")?),
        None => None,
    };
    let group = match &rd.group {
        Some(g) => {
            let g_text = text_value(F, text, g, "group")?;
            if !groups.contains(g_text.as_str()) {
                let known: Vec<&str> = groups.iter().copied().collect();
                return Err(EvidenceError::at(
                    F,
                    text,
                    g.span().start,
                    "group",
                    format!("no indication is in group '{g_text}'; the groups are {}", known.join(", ")),
                ));
            }
            Some(g_text)
        }
        None => None,
    };
    Ok(DefaultRule { product_type, group, rule: rule(text, &rd.status, &rd.summary, &rd.sources)? })
}

#[allow(clippy::type_complexity)]
fn parse_status_file(
    text: &str,
    version: &str,
    indications: &[IndicationEntry],
    products: &[ApprovedProduct],
) -> Result<(BTreeMap<(String, ProductType), StatusRule>, Vec<DefaultRule>), EvidenceError> {
    const F: DataFile = DataFile::Status;
    let raw: RawStatus = from_toml(F, text)?;
    check_version(F, text, &raw.version, Some(version))?;
    let groups: BTreeSet<&str> = indications.iter().map(|i| i.group.as_str()).collect();

    let mut defaults: Vec<DefaultRule> = Vec::with_capacity(raw.default.len());
    let mut default_lines: BTreeMap<(Option<ProductType>, Option<String>), usize> = BTreeMap::new();
    for rd in &raw.default {
        let d = parse_default(text, rd, &groups)?;
        let at = rd.status.span().start;
        if let Some(first) = default_lines.insert((d.product_type, d.group.clone()), line_of(text, at)) {
            return Err(EvidenceError::at(
                F,
                text,
                at,
                "product_type",
                format!("a default for the same product type and group is already given at line {first}; keep one"),
            ));
        }
        if d.rule.status == EvidenceStatus::Approved {
            let (Some(pt), Some(group)) = (d.product_type, d.group.as_deref()) else {
                return Err(EvidenceError::at(
                    F,
                    text,
                    at,
                    "status",
                    "an 'approved' default must name both a product_type and a group: approval is specific to products and indications",
                ));
            };
            for ind in indications.iter().filter(|i| i.group == group) {
                if !backed(products, &ind.id, pt) {
                    return Err(not_backed(text, at, &ind.id, pt));
                }
            }
        }
        defaults.push(d);
    }
    if !defaults.iter().any(|d| d.product_type.is_none() && d.group.is_none()) {
        return Err(EvidenceError::at(
            F,
            text,
            0,
            "default",
            "no catch-all default: add a [[default]] with neither product_type nor group so that every pair has a status",
        ));
    }

    let mut rows = BTreeMap::new();
    let mut row_lines: BTreeMap<(String, ProductType), usize> = BTreeMap::new();
    for rr in &raw.row {
        let indication = text_value(F, text, &rr.indication, "indication")?;
        if !indications.iter().any(|i| i.id == indication) {
            return Err(EvidenceError::at(
                F,
                text,
                rr.indication.span().start,
                "indication",
                format!("'{indication}' is not an indication of indications.toml"),
            ));
        }
        let pt = product_type_value(F, text, &rr.product_type, "product_type")?;
        let r = rule(text, &rr.status, &rr.summary, &rr.sources)?;
        if r.status == EvidenceStatus::Approved && !backed(products, &indication, pt) {
            return Err(not_backed(text, rr.status.span().start, &indication, pt));
        }
        let at = rr.indication.span().start;
        let key = (indication, pt);
        if let Some(first) = row_lines.insert(key.clone(), line_of(text, at)) {
            return Err(EvidenceError::at(
                F,
                text,
                at,
                "indication",
                format!("a row for '{}' with '{}' is already given at line {first}; keep one", key.0, pt.code()),
            ));
        }
        rows.insert(key, r);
    }
    Ok((rows, defaults))
}

impl EvidenceData {
    /// Parses and checks the three data files, given their text.
    ///
    /// # Errors
    /// [`EvidenceError`] naming the file, line and field when a file is not
    /// TOML, a field is missing, unknown or of the wrong type, a value is not
    /// allowed (a status word, a product type, an ICD-10-CM code), or the files
    /// disagree: a status row naming an unknown indication, an indication
    /// without a code, duplicate rows, different versions, an `approved`
    /// status no approved product backs, or no catch-all default.
    pub fn parse(indications: &str, status: &str, products: &str) -> Result<EvidenceData, EvidenceError> {
        let (version, indications) = parse_indications(indications)?;
        let products = parse_products(products, &version, &indications)?;
        let (rows, defaults) = parse_status_file(status, &version, &indications, &products)?;
        Ok(EvidenceData { version, indications, rows, defaults, products })
    }

    /// The data shipped with celltrace (`data/evidence/`, compiled in).
    ///
    /// # Errors
    /// Only if the shipped files are inconsistent, which the crate's tests rule out.
    pub fn shipped() -> Result<EvidenceData, EvidenceError> {
        EvidenceData::parse(crate::SHIPPED_INDICATIONS, crate::SHIPPED_STATUS, crate::SHIPPED_PRODUCTS)
    }

    /// The data version, recorded in every rating so a plan says which version it used.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every indication, in file order.
    #[must_use]
    pub fn indications(&self) -> &[IndicationEntry] {
        &self.indications
    }

    /// The indication with this id.
    #[must_use]
    pub fn indication(&self, id: &str) -> Option<&IndicationEntry> {
        self.indications.iter().find(|i| i.id == id)
    }

    /// The indication one of whose ICD-10-CM codes is `code`, or else the
    /// one listing the closest parent category of it: ICD-10-CM is
    /// hierarchical, so `M51.36` (lumbar disc degeneration) falls under a
    /// listed `M51.3`.
    #[must_use]
    pub fn indication_by_code(&self, code: &str) -> Option<&IndicationEntry> {
        let code = code.trim().to_ascii_uppercase();
        if let Some(exact) = self.indications.iter().find(|i| i.icd10.contains(&code)) {
            return Some(exact);
        }
        self.indications
            .iter()
            .flat_map(|i| i.icd10.iter().map(move |c| (c, i)))
            .filter(|(c, _)| c.len() >= 3 && code.starts_with(c.as_str()))
            .max_by_key(|(c, _)| c.len())
            .map(|(_, i)| i)
    }

    /// The rule that gives this pair its status, and which kind of rule it is:
    /// a row naming the pair, else the most specific default (product type and
    /// group, then product type, then group, then the catch-all). `None` only
    /// for an unknown indication.
    #[must_use]
    pub fn resolve(&self, indication_id: &str, product_type: ProductType) -> Option<(&StatusRule, RuleMatch)> {
        let indication = self.indication(indication_id)?;
        if let Some(r) = self.rows.get(&(indication.id.clone(), product_type)) {
            return Some((r, RuleMatch::Explicit));
        }
        self.defaults
            .iter()
            .filter(|d| d.matches(&indication.group, product_type))
            .max_by_key(|d| d.specificity())
            .map(|d| (&d.rule, RuleMatch::Default { product_type: d.product_type, group: d.group.clone() }))
    }

    /// The domain's rating of this pair (status, summary, sources, data
    /// version), to put in `Command::CreatePlan`. `None` for an unknown indication.
    #[must_use]
    pub fn rating(&self, indication_id: &str, product_type: ProductType) -> Option<EvidenceRating> {
        self.resolve(indication_id, product_type).map(|(r, _)| EvidenceRating {
            status: r.status,
            summary: r.summary.clone(),
            sources: r.sources.clone(),
            data_version: self.version.clone(),
        })
    }

    /// Every product of the reference, whatever its status.
    #[must_use]
    pub fn products(&self) -> &[ApprovedProduct] {
        &self.products
    }

    /// The products whose authorisation is in force (approved or conditionally
    /// approved) for this indication, in file order.
    #[must_use]
    pub fn approved_products_for(&self, indication_id: &str) -> Vec<&ApprovedProduct> {
        self.products
            .iter()
            .filter(|p| p.status.in_force() && p.indication_ids.iter().any(|i| i == indication_id))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icd10cm_shapes() {
        for ok in ["M54.50", "G35", "C4A.9", "T91.3", "D89.810", "M51.3"] {
            assert!(is_icd10cm(ok), "{ok}");
        }
        for bad in ["", "M5", "m54.50", "M54.", "M54.50000", "M5450", "54.50", "M54-50", "É54"] {
            assert!(!is_icd10cm(bad), "{bad}");
        }
    }

    #[test]
    fn product_types_round_trip() {
        for p in PRODUCT_TYPES {
            assert_eq!(parse_product_type(p.code()), Some(p));
        }
        assert_eq!(parse_product_type("exosome"), None);
    }
}
