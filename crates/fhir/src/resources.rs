//! The resources built from single entities: Patient, Practitioner,
//! Organization, BiologicallyDerivedProduct, Procedure (collections and
//! administrations), Observation (QC results, follow-up scores), AdverseEvent
//! and Consent. Each builder takes the entity (and the record inside it) and
//! reads the [`Context`] only for names and links.

use crate::context::Context;
use crate::ids::{fhir_id, reference, reference_with_display};
use crate::json::{coding, concept, decimal_from_milli, extension, is_code, narrative, prune, text_concept};
use crate::search::ResourceType;
use crate::systems::*;
use crate::time::{date, date_time};
use celltrace_domain::model::*;
use serde::Serialize;
use serde_json::{json, Value};

/// The serialised (snake_case or kebab-case) name of a domain enum value,
/// which is already a valid FHIR code.
pub(crate) fn code_of<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn practitioner_ref(ctx: &Context, id: &celltrace_domain::ids::StaffId) -> Value {
    reference_with_display(ResourceType::Practitioner, id.as_str(), ctx.staff_name(id))
}

fn organization_ref(ctx: &Context, id: &celltrace_domain::ids::SiteId) -> Value {
    reference_with_display(ResourceType::Organization, id.as_str(), ctx.site_name(id))
}

fn patient_ref(ctx: &Context, id: &celltrace_domain::ids::PersonId) -> Value {
    reference_with_display(ResourceType::Patient, id.as_str(), ctx.person_name(id))
}

fn record_identifier(id: &str) -> Value {
    json!({ "system": RECORD_ID, "value": id })
}

fn product_type_label(t: ProductType) -> &'static str {
    match t {
        ProductType::AutologousAdipose => "autologous adipose-derived cells",
        ProductType::AutologousBoneMarrow => "autologous bone-marrow cells",
        ProductType::CordBloodHpc => "cord blood HPC",
        ProductType::AllogeneicMsc => "allogeneic MSC",
        ProductType::EmbryonicDerived => "embryonic-stem-cell-derived product",
        ProductType::MscExosome => "MSC-derived exosomes",
        ProductType::Prp => "platelet-rich plasma",
    }
}

/// A Patient: patients and donors alike (FHIR has no donor resource), told
/// apart by a `meta.tag` of [`PERSON_KIND`]. `Sex::Other` means "other or not
/// stated", so it maps to `unknown` rather than asserting `other`.
pub fn patient(person: &Person, ctx: &Context) -> Value {
    let gender = match person.sex {
        Sex::Female => "female",
        Sex::Male => "male",
        Sex::Other => "unknown",
    };
    let kind = code_of(&person.kind);
    let contact = person.contact.trim();
    let telecom = if contact.is_empty() {
        Value::Null
    } else {
        let system = if contact.contains('@') { "email" } else { "phone" };
        json!([{ "system": system, "value": contact }])
    };
    prune(json!({
        "resourceType": "Patient",
        "id": fhir_id(person.id.as_str()),
        "meta": { "tag": [coding(PERSON_KIND, &kind, &kind)] },
        "identifier": [{
            "use": "usual",
            "type": concept(V2_0203, "MR", "Medical record number", ""),
            "system": format!("{MRN_BASE}/{}", person.site),
            "value": person.mrn,
            "assigner": organization_ref(ctx, &person.site),
        }],
        "active": true,
        "name": [{ "text": person.name }],
        "telecom": telecom,
        "gender": gender,
        "birthDate": date(person.date_of_birth),
        "communication": [{
            "language": { "coding": [coding(BCP47, &code_of(&person.language), "")] },
            "preferred": true,
        }],
        "managingOrganization": organization_ref(ctx, &person.site),
    }))
}

/// A Practitioner for a member of staff: name and whether the account is active.
/// Roles and sites stay out: they are access rules, not clinical facts.
pub fn practitioner(staff: &Staff) -> Value {
    prune(json!({
        "resourceType": "Practitioner",
        "id": fhir_id(staff.id.as_str()),
        "active": staff.active,
        "name": [{ "text": staff.name }],
    }))
}

/// An Organization for a site, identified by its ISBT 128 FIN.
pub fn organization(site: &Site) -> Value {
    let kind = code_of(&site.kind);
    prune(json!({
        "resourceType": "Organization",
        "id": fhir_id(site.id.as_str()),
        "identifier": [{ "system": ISBT128_FIN, "value": site.fin }],
        "active": true,
        "type": [{ "coding": [coding(SITE_KIND, &kind, "")], "text": kind.replace('_', " ") }],
        "name": site.name,
        "address": [{ "country": site.country }],
    }))
}

/// FHIR's category of a product type: exosomes are a biological agent and PRP
/// a fluid; everything else is cells.
pub fn product_category(t: ProductType) -> &'static str {
    match t {
        ProductType::MscExosome => "biologicalAgent",
        ProductType::Prp => "fluid",
        _ => "cells",
    }
}

/// A BiologicallyDerivedProduct for a unit.
///
/// - `identifier`: the DIN ([`ISBT128_DIN`]) and the unit code, DIN followed by
///   product code ([`UNIT_CODE`]).
/// - `productCode`: the ISBT 128 product code and the celltrace product type;
///   its text is the catalogue description when the site loaded one.
/// - `status`: `available` only when released; quarantined, consumed,
///   administered and discarded units are `unavailable`, and the exact status
///   is in the `unit-status` extension.
/// - `parent`: the units it was made from (lineage); `collection`: source
///   person and time; `processing`: the batch record's steps.
pub fn product(unit: &Unit, ctx: &Context) -> Value {
    let status = if unit.status == UnitStatus::Released { "available" } else { "unavailable" };
    let description = ctx
        .catalogue
        .as_ref()
        .and_then(|c| c.describe(&unit.product_code))
        .unwrap_or(product_type_label(unit.product_type));
    let intended = match &unit.intended_use {
        IntendedUse::Autologous { .. } => "autologous",
        IntendedUse::Allogeneic => "allogeneic",
    };
    let processing: Vec<Value> = unit
        .steps
        .iter()
        .map(|s| {
            let kind = code_of(&s.kind);
            let mut text = format!("{} with {}", kind.replace('_', " "), s.equipment.trim());
            if !s.reagent_lots.is_empty() {
                text.push_str(&format!("; reagent lots {}", s.reagent_lots.join(", ")));
            }
            if !s.parameters.is_empty() {
                let params: Vec<String> = s.parameters.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                text.push_str(&format!("; {}", params.join(", ")));
            }
            json!({
                "description": text,
                "procedure": { "coding": [coding(PROCESSING_KIND, &kind, "")], "text": kind.replace('_', " ") },
                "timeDateTime": date_time(s.at),
            })
        })
        .collect();
    let storage = unit.location.as_ref().map(|l| {
        json!([{ "description": format!("freezer {}, rack {}, box {}, position {}", l.freezer, l.rack, l.r#box, l.position) }])
    });
    prune(json!({
        "resourceType": "BiologicallyDerivedProduct",
        "id": fhir_id(unit.id.as_str()),
        "extension": [
            extension("unit-status", "valueCode", json!(code_of(&unit.status))),
            extension("intended-use", "valueCode", json!(intended)),
            extension("expires", "valueDateTime", json!(date_time(unit.expires_at))),
            extension("quantity", "valueQuantity", json!({ "value": decimal_from_milli(unit.quantity.milli), "unit": unit.quantity.unit })),
            if unit.exceptional { extension("exceptional-release", "valueBoolean", json!(true)) } else { Value::Null },
            extension("discard-reason", "valueString", json!(unit.discard_reason)),
        ],
        "identifier": [
            { "system": ISBT128_DIN, "value": unit.din },
            { "system": UNIT_CODE, "value": format!("{}{}", unit.din, unit.product_code) },
        ],
        "productCategory": product_category(unit.product_type),
        "productCode": {
            "coding": [
                coding(ISBT128_PRODUCT_CODE, &unit.product_code, ""),
                coding(PRODUCT_TYPE, unit.product_type.code(), product_type_label(unit.product_type)),
            ],
            "text": description,
        },
        "status": status,
        "parent": unit.parents.iter().map(|p| reference(ResourceType::BiologicallyDerivedProduct, p.as_str())).collect::<Vec<_>>(),
        "collection": {
            "source": patient_ref(ctx, &unit.source_person),
            "collectedDateTime": date_time(unit.collected_at),
        },
        "processing": processing,
        "storage": storage,
    }))
}

/// The Procedure of a collection, from its starting-material unit (the unit
/// with no parents). The collector is not kept in the projection, so there is
/// no performer; the `collected-product` extension names the unit made.
pub fn collection_procedure(unit: &Unit, ctx: &Context) -> Value {
    let label = product_type_label(unit.product_type);
    prune(json!({
        "resourceType": "Procedure",
        "id": fhir_id(unit.collection.as_str()),
        "extension": [extension("collected-product", "valueReference", reference(ResourceType::BiologicallyDerivedProduct, unit.id.as_str()))],
        "identifier": [record_identifier(unit.collection.as_str())],
        "status": "completed",
        "code": concept(PROCEDURE, "collection", "Collection", &format!("Collection of starting material for {label}")),
        "subject": patient_ref(ctx, &unit.source_person),
        "performedDateTime": date_time(unit.collected_at),
    }))
}

/// The Procedure of an administration: operator and witness as performers,
/// the plan's indication as reason, the unit in `administered-product`.
pub fn administration_procedure(plan: &Plan, administration: &Administration, ctx: &Context) -> Value {
    let label = product_type_label(plan.product_type);
    let performer = |who: &celltrace_domain::ids::StaffId, function: &str| {
        json!({ "function": text_concept(function), "actor": practitioner_ref(ctx, who) })
    };
    prune(json!({
        "resourceType": "Procedure",
        "id": fhir_id(administration.id.as_str()),
        "extension": [extension("administered-product", "valueReference", reference(ResourceType::BiologicallyDerivedProduct, administration.unit.as_str()))],
        "identifier": [record_identifier(administration.id.as_str())],
        "status": "completed",
        "code": concept(PROCEDURE, "administration", "Administration", &format!("Administration of {label}")),
        "subject": patient_ref(ctx, &plan.patient),
        "performedDateTime": date_time(administration.at),
        "performer": [performer(&administration.operator, "operator"), performer(&administration.witness, "witness")],
        "reasonCode": [concept(ICD10CM, &plan.indication.icd10, &plan.indication.name, &plan.indication.name)],
        "bodySite": [text_concept(&administration.body_site)],
        "note": [{ "text": format!("Dose {}, route {}", administration.dose, administration.route) }],
    }))
}

/// The id of a unit's `index`-th (0-based) QC result Observation: `{unit}-qc-{n}`, n from 1.
pub fn qc_observation_id(unit: &Unit, index: usize) -> String {
    fhir_id(&celltrace_domain::index::qc_record_id(unit, index))
}

/// The laboratory Observation of a unit's `i`-th (0-based) QC result. FHIR
/// R4 Observations cannot have a product as subject, so the subject is the
/// source person and `focus` names the unit; in or out of specification is
/// `N` or `A`. `None` when the unit has no such result.
pub fn qc_observation(unit: &Unit, i: usize, ctx: &Context) -> Option<Value> {
    let qc = unit.qc.get(i)?;
    let code = if is_code(&qc.test) { coding(QC_TEST, &qc.test, "") } else { Value::Null };
    let (flag, label) = if qc.in_spec { ("N", "Normal") } else { ("A", "Abnormal") };
    Some(prune(json!({
        "resourceType": "Observation",
        "id": qc_observation_id(unit, i),
        "identifier": [record_identifier(&celltrace_domain::index::qc_record_id(unit, i))],
        "status": "final",
        "category": [concept(OBSERVATION_CATEGORY, "laboratory", "Laboratory", "")],
        "code": { "coding": [code], "text": qc.test },
        "subject": patient_ref(ctx, &unit.source_person),
        "focus": [reference(ResourceType::BiologicallyDerivedProduct, unit.id.as_str())],
        "effectiveDateTime": date_time(qc.at),
        "performer": [practitioner_ref(ctx, &qc.performed_by)],
        "valueString": qc.value,
        "interpretation": [concept(INTERPRETATION, flag, label, if qc.in_spec { "in specification" } else { "out of specification" })],
        "referenceRange": [{ "text": qc.specification }],
    })))
}

/// A survey Observation of a follow-up score (score in thousandths becomes a
/// decimal); an unscored visit says so with `dataAbsentReason`.
pub fn follow_up_observation(plan: &Plan, follow_up: &FollowUp, ctx: &Context) -> Value {
    let instrument = follow_up.instrument.trim();
    let code = instrument.to_lowercase();
    let code = if is_code(&code) { coding(INSTRUMENT, &code, instrument) } else { Value::Null };
    let (value, absent) = match follow_up.score_milli {
        Some(milli) => (json!({ "value": decimal_from_milli(milli) }), Value::Null),
        None => (Value::Null, concept(DATA_ABSENT, "not-performed", "Not Performed", "not scored")),
    };
    prune(json!({
        "resourceType": "Observation",
        "id": fhir_id(follow_up.id.as_str()),
        "extension": [extension("time-point", "valueString", json!(follow_up.time_point))],
        "identifier": [record_identifier(follow_up.id.as_str())],
        "status": "final",
        "category": [concept(OBSERVATION_CATEGORY, "survey", "Survey", "")],
        "code": { "coding": [code], "text": format!("{instrument} score") },
        "subject": patient_ref(ctx, &plan.patient),
        "effectiveDateTime": date_time(follow_up.at),
        "performer": [practitioner_ref(ctx, &follow_up.recorded_by)],
        "valueQuantity": value,
        "dataAbsentReason": absent,
        "note": [{ "text": follow_up.notes }],
    }))
}

/// An AdverseEvent. The CTCAE term is the event's text (CTCAE terms have no
/// code system in FHIR R4); the grade sets the severity (1 mild, 2 moderate,
/// 3–5 severe) and stays in the text. R4 cannot name a product as suspect, so
/// the suspect is the procedure that gave the unit (or that collected it, when
/// it was never given), with the unit itself in `suspect-product`.
pub fn adverse_event(ae: &AdverseEvent, ctx: &Context) -> Value {
    let (severity, severity_label) = match ae.grade {
        0 | 1 => ("mild", "Mild"),
        2 => ("moderate", "Moderate"),
        _ => ("severe", "Severe"),
    };
    let criteria: Vec<String> = ae.seriousness.iter().map(|s| code_of(s).replace('_', " ")).collect();
    let seriousness = if ae.is_serious() {
        let why = if criteria.is_empty() { format!("serious (CTCAE grade {})", ae.grade) } else { format!("serious: {}", criteria.join(", ")) };
        concept(AE_SERIOUSNESS, "Serious", "Serious", &why)
    } else {
        concept(AE_SERIOUSNESS, "Non-serious", "Non-serious", "not serious")
    };
    let causality = match ae.relatedness {
        Relatedness::Definite => concept(AE_CAUSALITY, "Certain", "Certain", "definite"),
        Relatedness::Probable => concept(AE_CAUSALITY, "Probably-Likely", "Probably/Likely", "probable"),
        Relatedness::Possible => concept(AE_CAUSALITY, "Possible", "Possible", "possible"),
        Relatedness::Unlikely => concept(AE_CAUSALITY, "Unlikely", "Unlikely", "unlikely"),
        // WHO-UMC has no "not related" category.
        Relatedness::Unrelated => text_concept("not related"),
        Relatedness::NotAssessed => text_concept("not yet assessed"),
    };
    let unit = ae.unit.as_ref().and_then(|u| ctx.units.get(u));
    let suspect = unit.map(|u| {
        let procedure = match &u.administered_in {
            Some(adm) => reference(ResourceType::Procedure, adm.as_str()),
            None => {
                // The collection Procedure's id is the collection of the starting material.
                reference(ResourceType::Procedure, u.collection.as_str())
            }
        };
        json!([{ "instance": procedure, "causality": [{ "assessment": causality, "productRelatedness": code_of(&ae.relatedness) }] }])
    });
    let (reviewer, review_note) = match &ae.review {
        Some((who, at, note)) => (
            json!([practitioner_ref(ctx, who)]),
            extension("review", "valueString", json!(format!("{} ({}): {}", ctx.staff_name(who).unwrap_or(who.as_str()), date_time(*at), note))),
        ),
        None => (Value::Null, Value::Null),
    };
    prune(json!({
        "resourceType": "AdverseEvent",
        "id": fhir_id(ae.id.as_str()),
        "text": narrative(&ae.description),
        "extension": [
            extension("suspect-product", "valueReference", ae.unit.as_ref().map(|u| reference(ResourceType::BiologicallyDerivedProduct, u.as_str())).unwrap_or(Value::Null)),
            extension("action-taken", "valueString", json!(ae.action)),
            review_note,
        ],
        "identifier": record_identifier(ae.id.as_str()),
        "actuality": "actual",
        "event": text_concept(&ae.term),
        "subject": patient_ref(ctx, &ae.patient),
        "date": date(ae.onset),
        "recordedDate": date_time(ae.reported_at),
        "seriousness": seriousness,
        "severity": concept(AE_SEVERITY, severity, severity_label, &format!("CTCAE v5.0 grade {}", ae.grade)),
        "outcome": text_concept(&ae.outcome),
        "recorder": practitioner_ref(ctx, &ae.reported_by),
        "contributor": reviewer,
        "suspectEntity": suspect,
    }))
}

/// A treatment Consent: `active` while in force, `inactive` once withdrawn
/// (R4 has no `withdrawn`), with the permit's period ending at the withdrawal.
/// The template and the language the patient read are the source attachment.
pub fn consent(plan: &Plan, c: &celltrace_domain::model::Consent, ctx: &Context) -> Value {
    let status = if c.withdrawn.is_some() { "inactive" } else { "active" };
    let mut title = format!("{} version {}", c.template, c.template_version);
    if let Some(trial) = &c.trial {
        title.push_str(&format!(", trial {trial}"));
    }
    prune(json!({
        "resourceType": "Consent",
        "id": fhir_id(c.id.as_str()),
        "extension": [
            extension("witness", "valueReference", c.witness.as_ref().map(|w| practitioner_ref(ctx, w)).unwrap_or(Value::Null)),
            extension("withdrawal-reason", "valueString", json!(c.withdrawn.as_ref().map(|w| w.reason.clone()))),
        ],
        "identifier": [record_identifier(c.id.as_str())],
        "status": status,
        "scope": concept(CONSENT_SCOPE, "treatment", "Treatment", ""),
        "category": [{ "coding": [coding(LOINC, "59284-0", "")], "text": if c.trial.is_some() { "consent to investigational treatment" } else { "consent to treatment" } }],
        "patient": patient_ref(ctx, &plan.patient),
        "dateTime": date_time(c.patient_signed_at),
        "performer": [patient_ref(ctx, &plan.patient), practitioner_ref(ctx, &c.physician)],
        "organization": [organization_ref(ctx, &plan.site)],
        "sourceAttachment": { "language": code_of(&c.language), "title": title },
        "policyRule": text_concept(&format!("celltrace consent template {} version {}", c.template, c.template_version)),
        "provision": {
            "type": "permit",
            "period": {
                "start": date_time(c.patient_signed_at),
                "end": c.withdrawn.as_ref().map(|w| date_time(w.at)),
            },
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use celltrace_domain::time::{Date, Timestamp};

    fn id<T: std::str::FromStr>(s: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        s.parse().expect("test id")
    }

    fn unit(status: UnitStatus) -> Unit {
        Unit {
            id: id("u_1"),
            din: "A999926000001".into(),
            product_code: "S0001100".into(),
            product_type: ProductType::AutologousBoneMarrow,
            source_person: id("p1"),
            intended_use: IntendedUse::Autologous { patient: id("p1") },
            collection: id("col-1"),
            parents: vec![id("u0")],
            site: id("lab"),
            quantity: Quantity { milli: 10_500, unit: "mL".into() },
            collected_at: Timestamp(1_780_000_000_000_000),
            expires_at: Timestamp(1_790_000_000_000_000),
            status,
            qc: vec![],
            release: vec![],
            exceptional: false,
            steps: vec![],
            location: None,
            in_transit: None,
            allocated_to: None,
            requests: Vec::new(),
            administered_in: None,
            discard_reason: None,
            created_at: Timestamp(1_780_000_000_000_000),
        }
    }

    #[test]
    fn only_released_units_are_available_and_status_detail_is_kept() {
        let ctx = Context::default();
        for (s, fhir) in [
            (UnitStatus::Released, "available"),
            (UnitStatus::Quarantine, "unavailable"),
            (UnitStatus::Administered, "unavailable"),
            (UnitStatus::Discarded, "unavailable"),
            (UnitStatus::Consumed, "unavailable"),
        ] {
            let r = product(&unit(s), &ctx);
            assert_eq!(r["status"], fhir);
            assert_eq!(r["extension"][0]["valueCode"], code_of(&s));
        }
    }

    #[test]
    fn product_carries_din_lineage_and_mapped_id() {
        let r = product(&unit(UnitStatus::Quarantine), &Context::default());
        assert_eq!(r["id"], fhir_id("u_1"));
        assert_eq!(r["identifier"][0], json!({"system": ISBT128_DIN, "value": "A999926000001"}));
        assert_eq!(r["identifier"][1]["value"], "A999926000001S0001100");
        assert_eq!(r["parent"][0]["reference"], "BiologicallyDerivedProduct/u0");
        assert_eq!(r["productCategory"], "cells");
        assert_eq!(r["collection"]["source"]["reference"], "Patient/p1");
        assert_eq!(r["collection"]["collectedDateTime"], date_time(Timestamp(1_780_000_000_000_000)));
    }

    #[test]
    fn unknown_sex_and_empty_contact() {
        let person = Person {
            id: id("p1"),
            site: id("clinic"),
            kind: PersonKind::Donor,
            mrn: "M1".into(),
            name: "Ana".into(),
            date_of_birth: Date::new(1980, 2, 29).expect("date"),
            sex: Sex::Other,
            language: Language::Ar,
            contact: String::new(),
        };
        let r = patient(&person, &Context::default());
        assert_eq!(r["gender"], "unknown");
        assert_eq!(r["birthDate"], "1980-02-29");
        assert!(r.get("telecom").is_none());
        assert_eq!(r["meta"]["tag"][0]["code"], "donor");
        assert_eq!(r["communication"][0]["language"]["coding"][0]["code"], "ar");
    }
}
