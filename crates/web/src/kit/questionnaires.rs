//! Questionnaires shared by the portal, the staff paper form and FHIR: the
//! shipped instruments and schedules, each plan's time points and their
//! state, the views of an instrument's items, and turning answers into the
//! scores the registry analyses.

use celltrace_domain::model::{Plan, ProductType};
use celltrace_i18n::Lang;
use celltrace_domain::time::Timestamp;
use celltrace_outcomes::schedule::{self, parse_schedule, Schedule, TimePointStatus};
use celltrace_outcomes::Instrument;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Schedules by product type; a protocol without a file uses `default.toml`.
const SCHEDULE_FILES: [(Option<ProductType>, &str, &str); 2] = [
    (None, "default.toml", include_str!("../../../../data/schedules/default.toml")),
    (Some(ProductType::AutologousBoneMarrow), "autologous-bone-marrow.toml", include_str!("../../../../data/schedules/autologous-bone-marrow.toml")),
];

type Loaded<T> = Result<T, String>;
/// Each shipped schedule with the product type it is for (`None`: the default).
type Schedules = Vec<(Option<ProductType>, Schedule)>;

/// The shipped instruments by id.
pub fn instruments() -> Result<&'static BTreeMap<String, Instrument>, String> {
    celltrace_outcomes::shipped::instruments()
}

/// The schedule of plans of `product`, parsed once; a bad file is named.
pub fn schedule_for(product: ProductType) -> Result<&'static Schedule, String> {
    static SCHEDULES: OnceLock<Loaded<Schedules>> = OnceLock::new();
    let all = SCHEDULES
        .get_or_init(|| {
            SCHEDULE_FILES
                .iter()
                .map(|(product, file, text)| parse_schedule(text).map(|s| (*product, s)).map_err(|e| format!("data/schedules/{file}: {e}")))
                .collect()
        })
        .as_ref()
        .map_err(Clone::clone)?;
    all.iter()
        .find(|(p, _)| *p == Some(product))
        .or_else(|| all.iter().find(|(p, _)| p.is_none()))
        .map(|(_, s)| s)
        .ok_or_else(|| "no default schedule is shipped".to_owned())
}

/// The instrument id a staff-entered follow-up score belongs to.
fn instrument_of_score(name: &str) -> Option<&'static str> {
    match name {
        "NPRS" => Some("nprs"),
        "PGIC" => Some("pgic"),
        n if n.starts_with("KOOS") => Some("koos"),
        _ => None,
    }
}

fn day(at: Timestamp) -> i64 {
    at.0.div_euclid(Timestamp::DAY)
}

/// Where each questionnaire of `plan` stands on `today`: answered in the
/// portal or from paper, or recorded as a score by staff, counts as done.
pub fn plan_status(plan: &Plan, today: Timestamp) -> Result<Vec<TimePointStatus>, String> {
    let schedule = schedule_for(plan.product_type)?;
    let mut answered: Vec<(String, String)> = plan.responses.iter().map(|r| (r.time_point.clone(), r.instrument.clone())).collect();
    answered.extend(
        plan.follow_ups
            .iter()
            .filter(|f| f.score_milli.is_some())
            .filter_map(|f| instrument_of_score(&f.instrument).map(|i| (f.time_point.clone(), i.to_owned()))),
    );
    let anchor = plan.administrations.first().map(|a| day(a.at));
    Ok(schedule::status(schedule, anchor, day(plan.created_at), day(today), &answered))
}

/// Whether `time_point` × `instrument` is part of the plan's schedule.
pub fn scheduled(plan: &Plan, time_point: &str, instrument: &str) -> bool {
    schedule_for(plan.product_type)
        .ok()
        .and_then(|s| s.time_point(time_point))
        .is_some_and(|tp| tp.instruments.iter().any(|i| i == instrument))
}

pub use celltrace_outcomes::shipped::registry_scores;

/// One answer option as a form shows it.
pub struct OptionView {
    /// The option's value.
    pub value: u8,
    /// Its label, in the reader's language.
    pub label: String,
    /// Whether it was chosen.
    pub checked: bool,
}

/// One question as a form shows it.
pub struct ItemView {
    /// Item id.
    pub id: String,
    /// The question, in the reader's language.
    pub text: String,
    /// Its options.
    pub options: Vec<OptionView>,
    /// Whether it was left unanswered when it had to be answered.
    pub missing: bool,
}

/// The item texts and labels in `lang`, English where a translation is absent.
pub fn item_views(instrument: &celltrace_outcomes::Instrument, lang: Lang, answers: &std::collections::BTreeMap<String, u8>, flag_missing: bool) -> Vec<ItemView> {
    let pick = |en: &str, ar: &Option<String>, hi: &Option<String>| match lang {
        Lang::Ar => ar.clone().unwrap_or_else(|| en.to_owned()),
        Lang::Hi => hi.clone().unwrap_or_else(|| en.to_owned()),
        Lang::En => en.to_owned(),
    };
    instrument
        .items
        .iter()
        .map(|item| ItemView {
            id: item.id.clone(),
            text: celltrace_i18n::localise_digits(lang, &pick(&item.text, &item.text_ar, &item.text_hi)),
            options: item
                .options
                .iter()
                .map(|o| OptionView {
                    value: o.value,
                    label: celltrace_i18n::localise_digits(lang, &pick(&o.label, &o.label_ar, &o.label_hi)),
                    checked: answers.get(&item.id) == Some(&o.value),
                })
                .collect(),
            missing: flag_missing && !answers.contains_key(&item.id),
        })
        .collect()
}

/// Answers from a form whose radio buttons are named `item:<id>`.
pub fn answers_from(form: &[(String, String)]) -> std::collections::BTreeMap<String, u8> {
    form.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("item:")?.to_owned(), v.parse::<u8>().ok()?)))
        .collect()
}

/// The schedule of a plan for staff: each questionnaire's state in words and,
/// while its window is open and the viewer may record, the paper-entry form.
pub fn staff_lines(plan: &Plan, can_record: bool) -> Vec<(String, String, Option<String>)> {
    use celltrace_outcomes::schedule::VisitState;
    let day = |d: Option<i64>| d.map(|d| celltrace_domain::time::Date::from_days_since_epoch(d).to_string()).unwrap_or_else(|| "not yet known".into());
    let Ok(statuses) = plan_status(plan, Timestamp(crate::now_micros())) else { return Vec::new() };
    statuses
        .into_iter()
        .map(|s| {
            let open = matches!(s.state, VisitState::Due | VisitState::Overdue);
            let state = match s.state {
                VisitState::Upcoming => format!("upcoming, opens {}", day(s.opens)),
                VisitState::Due => format!("due until {}", day(s.closes)),
                VisitState::Overdue => format!("overdue, window closes {}", day(s.closes)),
                VisitState::Missed => format!("missed (window closed {})", day(s.closes)),
                VisitState::Completed => "completed".to_owned(),
            };
            let link = (open && can_record && plan.current_consent().is_some())
                .then(|| format!("/plans/{}/questionnaires/{}/{}", plan.id, s.time_point, s.instrument));
            (format!("{} {}", s.time_point, s.instrument), state, link)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_instruments_and_schedules_load() {
        let all = instruments().expect("instruments parse");
        assert_eq!(all.keys().map(String::as_str).collect::<Vec<_>>(), ["koos", "nprs", "pgic"]);
        for product in [ProductType::AutologousAdipose, ProductType::AutologousBoneMarrow, ProductType::CordBloodHpc] {
            let schedule = schedule_for(product).expect("schedule");
            for tp in schedule.time_points() {
                for instrument in &tp.instruments {
                    assert!(all.contains_key(instrument), "{instrument} in the {product:?} schedule is shipped");
                }
            }
        }
        assert!(schedule_for(ProductType::AutologousBoneMarrow).expect("knee").instruments().contains("koos"));
        assert!(!schedule_for(ProductType::Prp).expect("default").instruments().contains("koos"));
    }

}
