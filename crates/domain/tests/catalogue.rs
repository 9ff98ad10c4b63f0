//! The product description table: validated row by row, looked up by exact
//! product code first and then by its product description code.

use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::model::{ProductDescription, SiteKind};
use celltrace_domain::time::Timestamp;
use celltrace_domain::{decide, State};

fn submit(state: &mut State, command: Command) -> Result<(), String> {
    let sub = Submission {
        id: "c".parse().map_err(|e| format!("{e:?}"))?,
        actor: Actor::System("test".into()),
        site: "lab".parse().map_err(|e| format!("{e:?}"))?,
        at: Timestamp(1),
        command,
    };
    let events = decide(state, &sub).map_err(|r| r.message)?;
    events.iter().for_each(|e| state.apply(e));
    Ok(())
}

fn row(code: &str, description: &str) -> ProductDescription {
    ProductDescription { code: code.into(), description: description.into() }
}

#[test]
fn rows_are_checked_and_looked_up_exact_code_first() {
    let mut state = State::default();
    submit(&mut state, Command::RegisterSite {
        site: "lab".parse().expect("id"),
        name: "Lab".into(),
        kind: SiteKind::ProcessingLab,
        country: "IN".into(),
        accreditations: vec![],
        fin: "A9993".into(),
    })
    .expect("site");
    let bad = submit(&mut state, Command::LoadProductCatalogue { entries: vec![row("S1003", "MSC"), row("S10", "short")], source: "t.csv".into() });
    assert_eq!(bad, Err("Row 2: 'S10' is neither a 5-character product description code (e.g. S1003) nor an 8-character ISBT 128 product code.".into()));
    assert!(state.catalogue.is_none(), "a refused table changes nothing");
    let dup = submit(&mut state, Command::LoadProductCatalogue { entries: vec![row("S1003", "a"), row("S1003", "b")], source: "t.csv".into() });
    assert!(dup.is_err_and(|m| m.contains("appears twice")));

    submit(&mut state, Command::LoadProductCatalogue {
        entries: vec![row("S1003", "MSC, cryopreserved"), row("S10031A0", "MSC, cryopreserved, aliquot A")],
        source: "t.csv".into(),
    })
    .expect("good table");
    let catalogue = state.catalogue.as_ref().expect("loaded");
    assert_eq!(catalogue.describe("S10031A0"), Some("MSC, cryopreserved, aliquot A"));
    assert_eq!(catalogue.describe("S1003100"), Some("MSC, cryopreserved"));
    assert_eq!(catalogue.describe("S2001100"), None);
}

#[test]
fn evidence_data_is_checked_replaced_by_new_versions_only_and_projected() {
    use celltrace_domain::model::EvidenceDataset;
    use celltrace_domain::{EntityKey, EntityKind, ReferenceData};
    let mut state = State { reference: ReferenceData::new(std::sync::Arc::new(celltrace_reference::ReferenceData::shipped().expect("reference"))), ..State::default() };
    let shipped = |version: &str| {
        [celltrace_evidence::SHIPPED_INDICATIONS, celltrace_evidence::SHIPPED_STATUS, celltrace_evidence::SHIPPED_PRODUCTS]
            .map(|text| text.replace("2026.01.1", version))
    };
    let load = |version: &str, [indications, status, approved_products]: [String; 3]| Command::LoadEvidenceData {
        version: version.into(),
        indications,
        status,
        approved_products,
        source: "/srv/evidence".into(),
    };
    let [i, _, p] = shipped("2026.11.1");
    assert_eq!(submit(&mut state, load("2026.11.1", [i.clone(), "  ".into(), p.clone()])), Err("The status file is empty.".into()));
    assert!(state.evidence_data.is_none(), "a refused load changes nothing");
    let huge = "x".repeat(EvidenceDataset::MAX_FILE_BYTES + 1);
    assert!(submit(&mut state, load("2026.11.1", [i.clone(), huge, p.clone()])).is_err_and(|m| m.contains("larger than 2 MiB")));
    let broken = submit(&mut state, load("2026.11.1", [i, "[[default]]".into(), p]));
    assert!(broken.is_err_and(|m| m.starts_with("The evidence data is refused")), "the rules parse the data themselves");
    let mislabelled = submit(&mut state, load("2026.11.9", shipped("2026.11.1")));
    assert!(mislabelled.is_err_and(|m| m.contains("say they are version 2026.11.1")));
    submit(&mut state, load("2026.11.1", shipped("2026.11.1"))).expect("first load");
    assert_eq!(state.evidence_data.as_ref().map(|d| d.version.as_str()), Some("2026.11.1"));
    assert!(submit(&mut state, load("2026.11.1", shipped("2026.11.1"))).is_err_and(|m| m.contains("already in force")));
    submit(&mut state, load("2026.11.2", shipped("2026.11.2"))).expect("a new version");

    // The projection row round-trips, so `verify` can rebuild and compare it.
    let key = EntityKey::new(EntityKind::Catalogue, EvidenceDataset::ID);
    let row = state.row(&key).expect("encodes").expect("projected");
    assert_eq!(row.reference.as_deref(), Some("2026.11.2"));
    let mut rebuilt = State::default();
    rebuilt.load(&key, &row.body).expect("loads");
    assert_eq!(rebuilt.evidence_data, state.evidence_data);
    assert!(state.all_keys().contains(&key));
}

#[test]
fn the_bedside_guard_applies_the_rating_in_force_now() {
    use celltrace_domain::evidence_still_allows;
    use celltrace_domain::model::*;
    let rating = |status| EvidenceRating { status, summary: String::new(), sources: vec![], data_version: "2027.1".into() };
    let sig = Signature { signer: "md".parse().expect("id"), meaning: SignatureMeaning::EvidenceOverride, signed_at: Timestamp(1), proof: SignatureProof::Submitter };
    let mut plan = Plan {
        id: "plan-1".parse().expect("id"),
        site: "clinic".parse().expect("id"),
        patient: "p-1".parse().expect("id"),
        physician: "dr".parse().expect("id"),
        indication: Indication { icd10: "M54.50".into(), name: "Low back pain".into() },
        product_type: ProductType::AutologousAdipose,
        route: "intradiscal".into(),
        sessions: 1,
        dose: Quantity { milli: 1000, unit: "mL".into() },
        cost_quote: Money { minor: 100, currency: "USD".into() },
        evidence: rating(EvidenceStatus::Approved),
        trial: None,
        status: PlanStatus::Active,
        blocked_reason: None,
        warning_acknowledged_at: None,
        override_signature: None,
        override_reason: None,
        eligibility: vec![],
        consents: vec![],
        administrations: vec![],
        follow_ups: vec![],
        responses: vec![],
        created_at: Timestamp(0),
    };
    assert_eq!(evidence_still_allows(&plan, &rating(EvidenceStatus::Approved)), Ok(()));
    let refused = evidence_still_allows(&plan, &rating(EvidenceStatus::Unproven)).expect_err("no override");
    assert!(refused.contains("version 2027.1") && refused.contains("Unproven"), "{refused}");
    plan.override_signature = Some(sig);
    plan.warning_acknowledged_at = Some(Timestamp(2));
    assert_eq!(evidence_still_allows(&plan, &rating(EvidenceStatus::Unproven)), Ok(()), "override and signed warning");
    assert!(evidence_still_allows(&plan, &rating(EvidenceStatus::ResearchOnly)).is_err(), "research only never outside a trial");
    plan.trial = Some(Trial { registration: "NCT01234567".into(), ethics_approval: "IEC-1".into() });
    assert_eq!(evidence_still_allows(&plan, &rating(EvidenceStatus::ResearchOnly)), Ok(()), "inside its trial");
}
