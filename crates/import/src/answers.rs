//! Questionnaire answers: one `AnswerQuestionnaire` per row, items in
//! `item:<id>` columns, scored here with the shipped instrument definitions
//! exactly as the paper form in the web application scores them.

use crate::fields;
use crate::table::Cells;
use celltrace_domain::ids::{PlanId, VisitId};
use celltrace_domain::model::Language;
use celltrace_domain::Command;
use std::collections::BTreeMap;

pub(crate) const REQUIRED: &[&str] = &["plan", "time_point", "instrument"];
pub(crate) const OPTIONAL: &[&str] = &["language", "visit_id"];

pub use celltrace_outcomes::shipped::{instruments, registry_scores};

/// Whether a header names a question of some shipped instrument.
pub(crate) fn is_item_column(name: &str) -> bool {
    let Some(item) = name.strip_prefix("item:") else { return false };
    instruments().is_ok_and(|all| all.values().any(|i| i.item(item).is_some()))
}

pub(crate) fn example_item_columns() -> String {
    instruments()
        .map(|all| all.values().filter_map(|i| i.items.first().map(|item| format!("item:{} ({})", item.id, i.id))).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

/// A complete command needs a visit id: this one, made of the time point and
/// instrument, is unique within the plan (one answer per time point and
/// instrument), until the adapter gives a fresh one.
fn visit_for(time_point: &str, instrument: &str) -> Option<VisitId> {
    let safe: String = time_point.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' }).collect();
    VisitId::parse(&format!("q-{safe}-{instrument}")).ok()
}

/// The command, whether the language is still to come from the patient, and
/// whether the file named the visit.
pub(crate) fn command(cells: &mut Cells<'_>) -> Option<(Command, bool, bool)> {
    let plan = cells.parse("plan", |v| fields::id(v, PlanId::parse));
    let time_point = cells.parse("time_point", |v| {
        if v.chars().count() > 20 {
            Err(format!("'{}' is longer than 20 characters; use the schedule's time point, e.g. baseline or 3m", fields::shown(v)))
        } else {
            Ok(v.to_owned())
        }
    });
    let language = cells.parse_optional("language", fields::language);
    let all = match instruments() {
        Ok(all) => all,
        Err(e) => {
            cells.fail("instrument", format!("the shipped instrument definitions cannot be read: {e}"));
            return None;
        }
    };
    let instrument = cells.parse("instrument", |v| {
        all.get(&v.to_ascii_lowercase()).ok_or_else(|| {
            format!("'{}' is not a questionnaire celltrace has; write one of: {}", fields::shown(v), all.keys().cloned().collect::<Vec<_>>().join(", "))
        })
    });
    let visit = match (cells.optional("visit_id"), &time_point, instrument) {
        (Some(_), _, _) => cells.parse("visit_id", |v| fields::id(v, VisitId::parse)),
        (None, Some(tp), Some(instrument)) => {
            let visit = visit_for(tp, &instrument.id);
            if visit.is_none() {
                cells.fail("time_point", "cannot name the answer after it; add a visit_id column");
            }
            visit
        }
        _ => None,
    };
    let instrument = instrument?;

    let mut answers = BTreeMap::new();
    for (item_id, value) in cells.items() {
        let column = format!("item:{item_id}");
        let Some(item) = instrument.item(item_id) else {
            cells.fail(&column, format!("'{}' has no question {item_id}; leave this cell empty on {} rows", instrument.id, instrument.id));
            continue;
        };
        let allowed = || item.options.iter().map(|o| o.value.to_string()).collect::<Vec<_>>().join(", ");
        match value.parse::<u8>() {
            Ok(v) if item.allows(v) => {
                answers.insert(item_id.to_owned(), v);
            }
            _ => cells.fail(&column, format!("'{}' is not an answer to {item_id}; write one of {}, or leave it empty if unanswered", fields::shown(value), allowed())),
        }
    }
    if answers.is_empty() && cells.errors.is_empty() {
        cells.fail("instrument", format!("no {} question is answered on this row; fill its item:<id> cells", instrument.id));
        return None;
    }
    let language_from_patient = matches!(language, Some(None));
    let visit_from_file = cells.optional("visit_id").is_some();
    Some((
        Command::AnswerQuestionnaire {
            plan: plan?,
            visit: visit?,
            time_point: time_point?,
            instrument: instrument.id.clone(),
            answers,
            language: language?.unwrap_or(Language::En),
        },
        language_from_patient,
        visit_from_file,
    ))
}
