//! After treatment: follow-up results and questionnaire answers, each only
//! inside its time point's window of the plan's schedule; adverse events
//! (CTCAE term and grade, seriousness, relatedness) and their review.

use super::checks::{person, plan, reference, same_site, staff_actor, text, unit};
use super::rejection::{reject, reject_at, Rejection, RejectionCode as Code};
use crate::command::{Actor, Command, Submission};
use crate::event::Event;
use crate::model::*;
use crate::reference::TimePointWindow;
use crate::state::State;
use crate::time::Timestamp;

/// Refuses a result for `time_point` recorded outside its window.
fn in_window(state: &State, p: &Plan, time_point: &str, now: Timestamp) -> Result<(), Rejection> {
    let reference = reference(state)?;
    let Some(window) = reference.time_point(p.product_type, time_point) else {
        return reject_at(
            "time_point",
            Code::UnknownTimePoint,
            format!("'{time_point}' is not a time point of this plan's follow-up schedule ({}).", reference.time_points(p.product_type).join(", ")),
        );
    };
    let first = p.administrations.iter().map(|a| a.at).min();
    let today = now.date().days_since_epoch();
    match (window, first) {
        (TimePointWindow::Baseline, Some(given)) if today > given.date().days_since_epoch() => reject_at(
            "time_point",
            Code::OutsideWindow,
            format!("The baseline is recorded before treatment; the first administration was on {}. Record this under a follow-up time point.", given.date()),
        ),
        (TimePointWindow::Baseline, _) => Ok(()),
        (TimePointWindow::AfterTreatment { opens, .. }, None) => reject_at(
            "time_point",
            Code::OutsideWindow,
            format!("No administration is recorded yet: the {time_point} follow-up opens {opens} days after the first one."),
        ),
        (TimePointWindow::AfterTreatment { opens, closes }, Some(given)) => {
            let day = today - given.date().days_since_epoch();
            if day < opens || day > closes {
                let from = crate::time::Date::from_days_since_epoch(given.date().days_since_epoch() + opens);
                let to = crate::time::Date::from_days_since_epoch(given.date().days_since_epoch() + closes);
                return reject_at(
                    "time_point",
                    Code::OutsideWindow,
                    format!("The {time_point} follow-up is recorded from {from} to {to} (days {opens} to {closes} after the administration on {}); today is day {day}.", given.date()),
                );
            }
            Ok(())
        }
    }
}

pub(super) fn decide(state: &State, sub: &Submission) -> Result<Vec<Event>, Rejection> {
    use Role::*;
    let now = sub.at;
    match &sub.command {
        Command::RecordFollowUp { plan: id, visit, time_point, instrument, score_milli, notes } => {
            let staff = staff_actor(state, sub, &[Nurse, Physician])?;
            let p = plan(state, id)?;
            same_site("plan", &p.site, sub)?;
            if p.follow_ups.iter().any(|f| &f.id == visit) || p.responses.iter().any(|r| &r.id == visit) {
                return reject_at("visit", Code::Duplicate, format!("Visit {visit} already exists."));
            }
            text("time_point", "time point", time_point, 20)?;
            text("instrument", "instrument", instrument, 60)?;
            super::checks::optional_text("notes", "notes", notes, 2000)?;
            in_window(state, p, time_point, now)?;
            Ok(vec![Event::FollowUpRecorded {
                plan: id.clone(),
                follow_up: FollowUp {
                    id: visit.clone(),
                    time_point: time_point.clone(),
                    instrument: instrument.trim().to_owned(),
                    score_milli: *score_milli,
                    notes: notes.clone(),
                    recorded_by: staff.id.clone(),
                    at: now,
                },
            }])
        }
        Command::AnswerQuestionnaire { plan: id, visit, time_point, instrument, answers, language } => {
            let p = plan(state, id)?;
            let source = match &sub.actor {
                Actor::Patient(who) if who == &p.patient => ResponseSource::Portal,
                Actor::Patient(_) => return reject(Code::Forbidden, "This plan belongs to another patient."),
                _ => {
                    let staff = staff_actor(state, sub, &[Nurse, Physician])?;
                    same_site("plan", &p.site, sub)?;
                    ResponseSource::Paper(staff.id.clone())
                }
            };
            if p.responses.iter().any(|r| &r.id == visit) || p.follow_ups.iter().any(|f| &f.id == visit) {
                return reject_at("visit", Code::Duplicate, format!("Visit {visit} already exists."));
            }
            text("time_point", "time point", time_point, 20)?;
            text("instrument", "instrument", instrument, 40)?;
            let reference = reference(state)?;
            if !reference.asks(p.product_type, time_point, instrument) {
                return reject_at(
                    "instrument",
                    Code::UnknownInstrument,
                    format!("The {instrument} questionnaire is not asked at {time_point} for this plan."),
                );
            }
            in_window(state, p, time_point, now)?;
            if answers.is_empty() {
                return reject_at("answers", Code::NoAnswers, "No question was answered; nothing was recorded.");
            }
            if p.responses.iter().any(|r| &r.time_point == time_point && &r.instrument == instrument) {
                return reject(
                    Code::AlreadyAnswered,
                    format!("The {instrument} questionnaire for {time_point} is already answered; a correction is entered by staff as a follow-up note."),
                );
            }
            let scored = reference.score(instrument, answers).map_err(|e| Rejection::new(Code::Answers, e).at("answers"))?;
            Ok(vec![Event::QuestionnaireAnswered {
                plan: id.clone(),
                response: QuestionnaireResponse {
                    id: visit.clone(),
                    time_point: time_point.clone(),
                    instrument: instrument.clone(),
                    instrument_version: scored.version,
                    answers: answers.clone(),
                    scores: scored.scores,
                    language: *language,
                    source,
                    at: now,
                },
            }])
        }
        Command::ReportAdverseEvent { adverse_event, patient, plan: plan_id, unit: unit_id, term, grade, onset, seriousness, relatedness, action, outcome, description } => {
            let reporter = staff_actor(state, sub, &[Physician, Nurse])?;
            if state.adverse_events.contains_key(adverse_event) {
                return reject_at("adverse_event", Code::Duplicate, format!("Adverse event {adverse_event} already exists."));
            }
            let p = person(state, patient)?;
            same_site("patient", &p.site, sub)?;
            if let Some(plan_id) = plan_id {
                let linked = plan(state, plan_id)?;
                if &linked.patient != patient {
                    return reject_at("plan", Code::OtherPatient, "That plan belongs to another patient.");
                }
                same_site("plan", &linked.site, sub)?;
            }
            if let Some(unit_id) = unit_id {
                let u = unit(state, unit_id)?;
                // A unit at this site, or one given here: never another site's record.
                if u.site != sub.site {
                    return reject_at("unit", Code::OtherSite, format!("Unit {} is held by site {}; name a unit of this site.", u.din, u.site));
                }
            }
            text("term", "CTCAE term", term, 200)?;
            if !(1..=5).contains(grade) {
                return reject_at("grade", Code::Grade, "The CTCAE grade must be 1 to 5.");
            }
            reference(state)?.adverse_event_term(term, *grade).map_err(|e| Rejection::new(Code::Grade, e).at("term"))?;
            if *grade == 5 && !seriousness.contains(&Seriousness::Death) {
                return reject_at("seriousness", Code::Grade, "Grade 5 means death: tick the seriousness criterion 'death'.");
            }
            if onset.start() > now {
                return reject_at("onset", Code::Onset, "The onset date is in the future; check it.");
            }
            if *onset < p.date_of_birth {
                return reject_at("onset", Code::Onset, "The onset date is before the patient's date of birth; check it.");
            }
            text("action", "action taken", action, 1000)?;
            text("outcome", "outcome", outcome, 1000)?;
            text("description", "description", description, 5000)?;
            let serious = !seriousness.is_empty() || *grade >= 4;
            if serious && plan_id.is_none() {
                let plans: Vec<&Plan> = state.plans.values().filter(|pl| &pl.patient == patient).collect();
                if !plans.is_empty() {
                    let ids: Vec<String> = plans.iter().map(|pl| pl.id.to_string()).collect();
                    return reject_at(
                        "plan",
                        Code::SeriousWithoutPlan,
                        format!("A serious adverse event must name the treatment plan it followed; this patient has {}: choose one.", ids.join(", ")),
                    );
                }
            }
            Ok(vec![Event::AdverseEventReported {
                adverse_event: AdverseEvent {
                    id: adverse_event.clone(),
                    site: sub.site.clone(),
                    patient: patient.clone(),
                    plan: plan_id.clone(),
                    unit: unit_id.clone(),
                    term: term.trim().to_owned(),
                    grade: *grade,
                    onset: *onset,
                    seriousness: seriousness.clone(),
                    relatedness: *relatedness,
                    action: action.clone(),
                    outcome: outcome.clone(),
                    description: description.clone(),
                    reported_by: reporter.id.clone(),
                    reported_at: now,
                    review: None,
                },
            }])
        }
        Command::ReviewAdverseEvent { adverse_event, note } => {
            let director = staff_actor(state, sub, &[MedicalDirector])?;
            let ae = state
                .adverse_events
                .get(adverse_event)
                .ok_or_else(|| Rejection::new(Code::UnknownAdverseEvent, format!("Adverse event {adverse_event} does not exist.")))?;
            same_site("adverse event", &ae.site, sub)?;
            text("note", "review note", note, 2000)?;
            Ok(vec![Event::AdverseEventReviewed {
                adverse_event: adverse_event.clone(),
                reviewer: director.id.clone(),
                at: now,
                note: note.clone(),
            }])
        }
        _ => reject(Code::Forbidden, "not a clinical command"),
    }
}
