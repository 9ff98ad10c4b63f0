//! The reference data celltrace's rules consult, in one value that the
//! engine hands to `decide` and the adapters read for their forms: the
//! evidence guard's data (shipped, or loaded by an administrator), the
//! follow-up schedule of each product type, the questionnaire instruments,
//! the CTCAE v5.0 terms and the consent templates. Everything is parsed once,
//! when [`ReferenceData::shipped`] is called; loaded evidence data is parsed
//! once per version and kept.
//!
//! Pure: no I/O. The data files are compiled in from `data/`.

use celltrace_domain::model::{EvidenceDataset, Indication, ProductType};
use celltrace_domain::{EvidenceRules, RatedUse, Reference, ScoredAnswers, TimePointWindow};
use celltrace_evidence::EvidenceData;
use celltrace_outcomes::ctcae::CtcaeTable;
use celltrace_outcomes::schedule::{parse_schedule, Schedule, Timing};
use celltrace_outcomes::Instrument;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Schedules by product type; a protocol without a file uses `default.toml`.
const SCHEDULE_FILES: [(Option<ProductType>, &str, &str); 2] = [
    (None, "default.toml", include_str!("../../../data/schedules/default.toml")),
    (Some(ProductType::AutologousBoneMarrow), "autologous-bone-marrow.toml", include_str!("../../../data/schedules/autologous-bone-marrow.toml")),
];

/// How many loaded evidence versions are kept parsed (a deployment loads a
/// handful a year; old ones are parsed again if ever needed).
const KEPT_VERSIONS: usize = 8;

/// The evidence data as the rules see it.
struct Rules(Arc<EvidenceData>);

impl EvidenceRules for Rules {
    fn version(&self) -> &str {
        self.0.version()
    }

    fn rate(&self, icd10: &str, product_type: ProductType) -> Result<RatedUse, String> {
        let code = icd10.trim().to_ascii_uppercase();
        let entry = self.0.indication_by_code(&code).ok_or_else(|| {
            format!("ICD-10-CM code '{code}' is not an indication the evidence data (version {}) covers; check the code, or ask an administrator to add it to the data.", self.0.version())
        })?;
        let rating = self
            .0
            .rating(&entry.id, product_type)
            .ok_or_else(|| format!("the evidence data (version {}) has no rating for {} with {}", self.0.version(), entry.name, product_type.code()))?;
        Ok(RatedUse { indication: Indication { icd10: code, name: entry.name.clone() }, rating })
    }
}

/// Everything the rules and the forms look up, parsed once.
pub struct ReferenceData {
    shipped_evidence: Arc<EvidenceData>,
    loaded_evidence: Mutex<Vec<(String, Arc<EvidenceData>)>>,
    schedules: Vec<(Option<ProductType>, Schedule)>,
    instruments: BTreeMap<String, Instrument>,
    ctcae: CtcaeTable,
}

impl std::fmt::Debug for ReferenceData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReferenceData").field("evidence", &self.shipped_evidence.version()).finish_non_exhaustive()
    }
}

impl ReferenceData {
    /// The data shipped with celltrace.
    ///
    /// # Errors
    /// The file and the problem, if a shipped file does not parse (the
    /// crates' tests rule this out).
    pub fn shipped() -> Result<ReferenceData, String> {
        let shipped_evidence = Arc::new(EvidenceData::shipped().map_err(|e| format!("data/evidence: {e}"))?);
        let schedules = SCHEDULE_FILES
            .iter()
            .map(|(product, file, text)| parse_schedule(text).map(|s| (*product, s)).map_err(|e| format!("data/schedules/{file}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let instruments = celltrace_outcomes::shipped::instruments()?.clone();
        let ctcae = CtcaeTable::shipped().map_err(|e| format!("data/ctcae: {}", e.join("; ")))?;
        Ok(ReferenceData { shipped_evidence, loaded_evidence: Mutex::new(Vec::new()), schedules, instruments, ctcae })
    }

    /// The evidence data in force: `loaded` when an administrator replaced
    /// the shipped data, else the shipped data.
    ///
    /// # Errors
    /// Why loaded data does not parse (it was checked when loaded, so only
    /// a damaged database or an older celltrace can cause this).
    pub fn evidence_data(&self, loaded: Option<&EvidenceDataset>) -> Result<Arc<EvidenceData>, String> {
        let Some(dataset) = loaded else { return Ok(self.shipped_evidence.clone()) };
        let mut cache = self.loaded_evidence.lock().map_err(|_| "the evidence cache is unusable after a crash in another request".to_owned())?;
        if let Some((_, data)) = cache.iter().find(|(v, _)| v == &dataset.version) {
            return Ok(data.clone());
        }
        let data = Arc::new(
            EvidenceData::parse(&dataset.indications, &dataset.status, &dataset.approved_products)
                .map_err(|e| format!("the loaded evidence data (version {}) does not parse: {e}", dataset.version))?,
        );
        if cache.len() >= KEPT_VERSIONS {
            cache.remove(0);
        }
        cache.push((dataset.version.clone(), data.clone()));
        Ok(data)
    }

    /// The follow-up schedule of plans of `product_type`.
    pub fn schedule(&self, product_type: ProductType) -> &Schedule {
        self.schedules
            .iter()
            .find(|(p, _)| *p == Some(product_type))
            .or_else(|| self.schedules.iter().find(|(p, _)| p.is_none()))
            .map(|(_, s)| s)
            // `shipped` refuses a build without the default schedule.
            .unwrap_or_else(|| &self.schedules[0].1)
    }

    /// The shipped instruments by id.
    pub fn instruments(&self) -> &BTreeMap<String, Instrument> {
        &self.instruments
    }

    /// The CTCAE v5.0 term table.
    pub fn ctcae(&self) -> &CtcaeTable {
        &self.ctcae
    }
}

impl Reference for ReferenceData {
    fn evidence(&self, loaded: Option<&EvidenceDataset>) -> Result<Arc<dyn EvidenceRules>, String> {
        Ok(Arc::new(Rules(self.evidence_data(loaded)?)))
    }

    fn check_evidence(&self, indications: &str, status: &str, approved_products: &str) -> Result<String, String> {
        EvidenceData::parse(indications, status, approved_products).map(|d| d.version().to_owned()).map_err(|e| e.to_string())
    }

    fn time_point(&self, product_type: ProductType, time_point: &str) -> Option<TimePointWindow> {
        let tp = self.schedule(product_type).time_point(time_point)?;
        Some(match tp.timing {
            Timing::Baseline => TimePointWindow::Baseline,
            Timing::FollowUp { offset_days, window_before_days, window_after_days } => TimePointWindow::AfterTreatment {
                opens: i64::from(offset_days) - i64::from(window_before_days),
                closes: i64::from(offset_days) + i64::from(window_after_days),
            },
        })
    }

    fn time_points(&self, product_type: ProductType) -> Vec<String> {
        self.schedule(product_type).time_points().iter().map(|t| t.id.clone()).collect()
    }

    fn score(&self, instrument: &str, answers: &BTreeMap<String, u8>) -> Result<ScoredAnswers, String> {
        let definition = self.instruments.get(instrument).ok_or_else(|| format!("'{instrument}' is not a questionnaire celltrace ships."))?;
        let scores = celltrace_outcomes::shipped::registry_scores(definition, answers).map_err(|e| e.to_string())?;
        Ok(ScoredAnswers { version: definition.version.clone(), scores })
    }

    fn asks(&self, product_type: ProductType, time_point: &str, instrument: &str) -> bool {
        self.schedule(product_type).time_point(time_point).is_some_and(|tp| tp.instruments.iter().any(|i| i == instrument))
    }

    fn adverse_event_term(&self, term: &str, grade: u8) -> Result<(), String> {
        let found = self
            .ctcae
            .term(term.trim())
            .ok_or_else(|| format!("'{}' is not a CTCAE v5.0 term. Pick one of the offered terms (or the system organ class's 'Other, specify' term).", term.trim()))?;
        if found.grade(grade).is_none() {
            let allowed: Vec<String> = (1..=5).filter_map(|g| found.grade(g).map(|text| format!("{g}: {text}"))).collect();
            return Err(format!("{} has no grade {grade}. Its grades are: {}", found.term, allowed.join(" | ")));
        }
        Ok(())
    }

    fn consent_template(&self, template: &str, version: &str) -> bool {
        template == celltrace_i18n::CONSENT_TEMPLATE && celltrace_i18n::consent_version_known(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> ReferenceData {
        ReferenceData::shipped().expect("the shipped reference data parses")
    }

    #[test]
    fn rates_by_code_keeping_the_specific_code_given() {
        let d = data();
        let rules = d.evidence(None).expect("shipped");
        let rated = rules.rate(" m51.36 ", ProductType::AutologousAdipose).expect("known");
        assert_eq!(rated.indication.icd10, "M51.36");
        assert!(!rated.indication.name.is_empty());
        assert_eq!(rated.rating.data_version, rules.version());
        assert!(rules.rate("Z99.999", ProductType::Prp).is_err_and(|e| e.contains("Z99.999")));
    }

    #[test]
    fn windows_instruments_and_terms() {
        let d = data();
        assert_eq!(d.time_point(ProductType::Prp, "baseline"), Some(TimePointWindow::Baseline));
        assert_eq!(d.time_point(ProductType::Prp, "3m"), Some(TimePointWindow::AfterTreatment { opens: 77, closes: 105 }));
        assert_eq!(d.time_point(ProductType::Prp, "2y"), None);
        assert!(d.asks(ProductType::Prp, "1m", "nprs"));
        assert!(!d.asks(ProductType::Prp, "baseline", "pgic"));
        let scored = d.score("nprs", &BTreeMap::from([("pain".to_owned(), 7)])).expect("scores");
        assert_eq!(scored.scores.get("NPRS"), Some(&Some(7000)));
        assert!(d.score("nprs", &BTreeMap::from([("pain".to_owned(), 11)])).is_err());
        assert!(d.score("sf36", &BTreeMap::new()).is_err());
        assert!(d.adverse_event_term("Joint effusion", 2).is_ok());
        assert!(d.adverse_event_term("Joint effusion", 5).is_err());
        assert!(d.adverse_event_term("Feeling poorly", 1).is_err());
        assert!(d.consent_template(celltrace_i18n::CONSENT_TEMPLATE, celltrace_i18n::CONSENT_VERSION));
        assert!(!d.consent_template(celltrace_i18n::CONSENT_TEMPLATE, "1999.1"));
    }

    #[test]
    fn loaded_evidence_is_parsed_once_per_version() {
        let d = data();
        let dataset = EvidenceDataset {
            version: d.shipped_evidence.version().to_owned(),
            indications: celltrace_evidence::SHIPPED_INDICATIONS.to_owned(),
            status: celltrace_evidence::SHIPPED_STATUS.to_owned(),
            approved_products: celltrace_evidence::SHIPPED_PRODUCTS.to_owned(),
            source: "test".into(),
            loaded_at: celltrace_domain::time::Timestamp(0),
        };
        let a = d.evidence_data(Some(&dataset)).expect("parses");
        let b = d.evidence_data(Some(&dataset)).expect("cached");
        assert!(Arc::ptr_eq(&a, &b));
        let broken = EvidenceDataset { version: "broken".into(), status: "not toml [".into(), ..dataset };
        assert!(d.evidence_data(Some(&broken)).is_err());
    }
}
