//! Questionnaire and QuestionnaireResponse from plain structs shaped like the
//! outcomes crate's instruments (id, title, items with answer options scored
//! by number) and its answers (item id → option value), so this crate need not
//! depend on the instrument loader.

use crate::ids::{fhir_id, reference, reference_with_display};
use crate::json::{coding, prune};
use crate::search::ResourceType;
use crate::systems::{LOINC, ORDINAL_VALUE, QUESTIONNAIRE_BASE};
use crate::time::date_time;
use celltrace_domain::command::Actor;
use celltrace_domain::ids::PersonId;
use celltrace_domain::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A questionnaire instrument: what `celltrace_outcomes::Instrument` holds
/// that FHIR can say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionnaireDef {
    /// Instrument id, e.g. `nprs`; the Questionnaire's id and URL tail.
    pub id: String,
    /// Name for people.
    pub title: String,
    /// Version of the instrument definition.
    pub version: String,
    /// LOINC code of the panel, when known.
    pub loinc_panel: Option<String>,
    /// Items in display order.
    pub items: Vec<QuestionnaireItem>,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionnaireItem {
    /// Item id, unique in the instrument (FHIR `linkId`).
    pub link_id: String,
    /// The question.
    pub text: String,
    /// LOINC code of the item, when known.
    pub loinc: Option<String>,
    /// Allowed answers in display order.
    pub options: Vec<AnswerOptionDef>,
}

/// One answer option, scored by its number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerOptionDef {
    /// The number scoring uses (also the Coding's code).
    pub value: u8,
    /// Label.
    pub label: String,
}

/// One completed questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseInput {
    /// Response id (e.g. the follow-up visit's id).
    pub id: String,
    /// Whose answers.
    pub patient: PersonId,
    /// Who entered them: staff, or the patient in the portal.
    pub author: Actor,
    /// When completed.
    pub authored: Timestamp,
    /// Answers: item id → option value, as `celltrace_outcomes::score` takes them.
    pub answers: BTreeMap<String, u8>,
}

/// The canonical URL of a questionnaire.
pub fn questionnaire_url(def: &QuestionnaireDef) -> String {
    format!("{QUESTIONNAIRE_BASE}/{}", fhir_id(&def.id))
}

/// A computable name (`[A-Z][A-Za-z0-9_]*`) from an instrument id.
fn computable_name(id: &str) -> String {
    let mut name: String = id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert(0, 'Q');
    }
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => "Questionnaire".into(),
    }
}

fn option_coding(def: &QuestionnaireDef, option: &AnswerOptionDef) -> Value {
    coding(&format!("{}/options", questionnaire_url(def)), &option.value.to_string(), &option.label)
}

/// A Questionnaire: each item a `choice` whose options are Codings (code = the
/// scoring number) carrying the number again in the standard `ordinalValue`
/// extension, so scoring is machine-readable.
pub fn questionnaire(def: &QuestionnaireDef) -> Value {
    let items: Vec<Value> = def
        .items
        .iter()
        .map(|item| {
            let options: Vec<Value> = item
                .options
                .iter()
                .map(|o| {
                    let mut c = option_coding(def, o);
                    if let Some(obj) = c.as_object_mut() {
                        obj.insert("extension".into(), json!([{ "url": ORDINAL_VALUE, "valueDecimal": o.value }]));
                    }
                    json!({ "valueCoding": c })
                })
                .collect();
            json!({
                "linkId": item.link_id,
                "code": item.loinc.as_ref().map(|c| json!([coding(LOINC, c, "")])),
                "text": item.text,
                "type": "choice",
                "required": false,
                "answerOption": options,
            })
        })
        .collect();
    prune(json!({
        "resourceType": "Questionnaire",
        "id": fhir_id(&def.id),
        "url": questionnaire_url(def),
        "version": def.version,
        "name": computable_name(&def.id),
        "title": def.title,
        "status": "active",
        "subjectType": ["Patient"],
        "code": def.loinc_panel.as_ref().map(|c| json!([coding(LOINC, c, "")])),
        "item": items,
    }))
}

/// A completed QuestionnaireResponse, items in the questionnaire's order with
/// each answer as the option's Coding. An answer to an item the questionnaire
/// does not have is kept (code only, after the known items) rather than lost.
pub fn questionnaire_response(def: &QuestionnaireDef, response: &ResponseInput) -> Value {
    let mut items: Vec<Value> = def
        .items
        .iter()
        .filter_map(|item| {
            let value = *response.answers.get(&item.link_id)?;
            let answer = match item.options.iter().find(|o| o.value == value) {
                Some(o) => option_coding(def, o),
                None => json!({ "code": value.to_string() }),
            };
            Some(json!({ "linkId": item.link_id, "text": item.text, "answer": [{ "valueCoding": answer }] }))
        })
        .collect();
    items.extend(
        response
            .answers
            .iter()
            .filter(|(link, _)| !def.items.iter().any(|i| &&i.link_id == link))
            .map(|(link, value)| json!({ "linkId": link, "answer": [{ "valueCoding": { "code": value.to_string() } }] })),
    );
    let author = match &response.author {
        Actor::Staff(id) => reference(ResourceType::Practitioner, id.as_str()),
        Actor::Patient(id) => reference(ResourceType::Patient, id.as_str()),
        Actor::System(name) => json!({ "display": format!("system:{name}") }),
    };
    prune(json!({
        "resourceType": "QuestionnaireResponse",
        "id": fhir_id(&response.id),
        "identifier": { "system": crate::systems::RECORD_ID, "value": response.id },
        "questionnaire": format!("{}|{}", questionnaire_url(def), def.version),
        "status": "completed",
        "subject": reference_with_display(ResourceType::Patient, response.patient.as_str(), None),
        "authored": date_time(response.authored),
        "author": author,
        "item": items,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nprs() -> QuestionnaireDef {
        QuestionnaireDef {
            id: "nprs".into(),
            title: "Numeric Pain Rating Scale".into(),
            version: "1".into(),
            loinc_panel: Some("72514-3".into()),
            items: vec![QuestionnaireItem {
                link_id: "pain".into(),
                text: "Your pain, 0 to 10".into(),
                loinc: Some("72514-3".into()),
                options: (0..=10).map(|v| AnswerOptionDef { value: v, label: v.to_string() }).collect(),
            }],
        }
    }

    #[test]
    fn questionnaire_options_carry_their_score() {
        let q = questionnaire(&nprs());
        assert_eq!(q["name"], "Nprs");
        assert_eq!(q["url"], "http://celltrace.org/fhir/Questionnaire/nprs");
        let opt = &q["item"][0]["answerOption"][3]["valueCoding"];
        assert_eq!(opt["code"], "3");
        assert_eq!(opt["extension"][0]["valueDecimal"], 3);
        assert_eq!(q["item"][0]["required"], false);
    }

    #[test]
    fn response_answers_follow_items_and_keep_unknown_ones() {
        let r = questionnaire_response(&nprs(), &ResponseInput {
            id: "visit_1".into(),
            patient: "p1".parse().expect("id"),
            author: Actor::Patient("p1".parse().expect("id")),
            authored: Timestamp(0),
            answers: [("pain".to_owned(), 4), ("extra".to_owned(), 1)].into_iter().collect(),
        });
        assert_eq!(r["questionnaire"], "http://celltrace.org/fhir/Questionnaire/nprs|1");
        assert_eq!(r["item"][0]["answer"][0]["valueCoding"]["code"], "4");
        assert_eq!(r["item"][1]["linkId"], "extra");
        assert_eq!(r["author"]["reference"], "Patient/p1");
        assert_eq!(r["id"], fhir_id("visit_1"));
    }

    #[test]
    fn computable_names() {
        assert_eq!(computable_name("koos"), "Koos");
        assert_eq!(computable_name("5d-x"), "Q5dx");
        assert_eq!(computable_name(""), "Q");
    }
}
