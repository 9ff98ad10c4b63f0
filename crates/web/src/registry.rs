//! The outcomes registry over the ledger's projections: each treated patient
//! becomes a record (baseline, follow-up scores, adverse events), grouped by
//! indication × product type × site, and `celltrace-outcomes` computes the
//! statistics. Used by `celltrace registry report` and the registry page.

use celltrace_domain::model::{Plan, PlanStatus};
use celltrace_domain::State;
use celltrace_outcomes::stats::{report, AdverseEvent, GroupKey, PatientRecord, Report, ReportConfig};
use celltrace_outcomes::{Direction, Mcid};
use serde::Serialize;

/// The time points a plan's questionnaires are due at, in report order.
pub const TIME_POINTS: [&str; 4] = ["1m", "3m", "6m", "12m"];

/// The scores the registry analyses: the follow-up instrument name, and its
/// minimal clinically important difference (from the shipped instruments).
pub const ANALYSES: [(&str, Mcid); 2] = [
    ("NPRS", Mcid { value: 2.0, direction: Direction::LowerIsBetter }),
    ("KOOS pain", Mcid { value: 11.3, direction: Direction::HigherIsBetter }),
];

/// One analysed score.
#[derive(Debug, Serialize)]
pub struct Analysis {
    /// Instrument as recorded at follow-up.
    pub instrument: &'static str,
    /// Its MCID.
    pub mcid: Mcid,
    /// Patients treated with at least one score of this instrument.
    pub patients: usize,
    /// The statistics.
    pub report: Report,
}

fn day(micros: i64) -> i64 {
    micros.div_euclid(celltrace_domain::time::Timestamp::DAY)
}

/// The registry record of a treated plan for `instrument`, if it has any score of it.
fn record(state: &State, plan: &Plan, instrument: &str) -> Option<PatientRecord> {
    let first = plan.administrations.first()?;
    // Scores come from staff follow-ups and from answered questionnaires (portal or paper).
    let mut scores: Vec<(i64, &str, Option<i64>)> = plan
        .follow_ups
        .iter()
        .filter(|f| f.instrument == instrument)
        .map(|f| (f.at.0, f.time_point.as_str(), f.score_milli))
        .chain(plan.responses.iter().filter_map(|r| r.scores.get(instrument).map(|s| (r.at.0, r.time_point.as_str(), *s))))
        .collect();
    if scores.is_empty() {
        return None;
    }
    scores.sort_by_key(|(at, _, _)| *at);
    // The latest score recorded for a time point counts (a corrected entry follows the first).
    let value = |point: &str| scores.iter().rev().filter(|(_, p, _)| *p == point).find_map(|(_, _, s)| *s).map(|m| m as f64 / 1000.0);
    let last_contact = plan
        .follow_ups
        .iter()
        .map(|f| f.at.0)
        .chain(plan.responses.iter().map(|r| r.at.0))
        .chain(std::iter::once(first.at.0))
        .max()
        .unwrap_or(first.at.0);
    let adverse_events = state
        .adverse_events
        .values()
        .filter(|a| a.patient == plan.patient && a.plan.as_ref().is_none_or(|p| p == &plan.id))
        .map(|a| AdverseEvent { day: a.onset.days_since_epoch(), grade: a.grade })
        .collect();
    Some(PatientRecord {
        patient: plan.id.to_string(),
        group: GroupKey { indication: plan.indication.name.clone(), product_type: plan.product_type.code().to_owned(), site: plan.site.to_string() },
        baseline: value("baseline"),
        follow_ups: TIME_POINTS.iter().map(|p| ((*p).to_owned(), value(p))).collect(),
        treated_at_day: day(first.at.0),
        adverse_events,
        last_contact_day: day(last_contact),
    })
}

/// The registry over the whole state, one analysis per scored instrument.
pub fn analyse(state: &State) -> Vec<Analysis> {
    ANALYSES
        .iter()
        .map(|(instrument, mcid)| {
            let records: Vec<PatientRecord> = state
                .plans
                .values()
                .filter(|p| matches!(p.status, PlanStatus::Active | PlanStatus::Completed))
                .filter_map(|p| record(state, p, instrument))
                .collect();
            let config = ReportConfig { time_points: TIME_POINTS.iter().map(|p| (*p).to_owned()).collect(), mcid: *mcid };
            Analysis { instrument, mcid: *mcid, patients: records.len(), report: report(&records, &config) }
        })
        .collect()
}

use crate::auth::{self, Can, ViewPatients};
use crate::view::Layout;
use crate::AppState;
use askama::Template;
use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// One row of the registry table: group, time point, treated, followed,
/// missing, change, responders, adverse events per patient.
type Row = (String, String, usize, usize, usize, String, String, String);

/// One analysed instrument on the page: its heading, the slug of its plot
/// files, and its table rows.
struct AnalysisView {
    heading: String,
    slug: String,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "registry.html")]
struct RegistryPage {
    layout: Option<Layout>,
    analyses: Vec<AnalysisView>,
}

/// The file-name form of an instrument, e.g. `koos-pain`.
fn slug(instrument: &str) -> String {
    instrument.to_lowercase().replace(' ', "-")
}

/// The plots of the pooled cohort of one analysed instrument.
pub fn pooled_plots(state: &State, instrument_slug: &str) -> Option<Result<celltrace_plots::GroupPlots, String>> {
    let analyses = analyse(state);
    let analysis = analyses.iter().find(|a| slug(a.instrument) == instrument_slug)?;
    Some(celltrace_plots::group_plots(&analysis.report.pooled, analysis.instrument).map_err(|e| e.to_string()))
}

/// `GET /registry/plots/{instrument}/{file}`: `change`, `responders` or
/// `adverse-events`, as `.svg`, `.png` or `.csv`.
pub async fn plot_file(AxumState(state): AxumState<AppState>, Can { .. }: Can<ViewPatients>, axum::extract::Path((instrument, file)): axum::extract::Path<(String, String)>) -> Response {
    let not_found = || auth::refusal(StatusCode::NOT_FOUND, "There is no such plot. Plots are change, responders and adverse-events, as .svg, .png or .csv.");
    let Some((kind, extension)) = file.rsplit_once('.') else { return not_found() };
    let whole = match state.db().load_state().await {
        Ok(s) => s,
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    let plots = match pooled_plots(&whole, &instrument) {
        Some(Ok(p)) => p,
        Some(Err(e)) => return auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &format!("The plot could not be drawn: {e}")),
        None => return not_found(),
    };
    let plot = match kind {
        "change" => plots.change,
        "responders" => plots.responders,
        "adverse-events" => plots.time_to_first_ae,
        _ => return not_found(),
    };
    let (content_type, body) = match extension {
        "svg" => ("image/svg+xml", plot.svg.into_bytes()),
        "png" => ("image/png", plot.png),
        "csv" => ("text/csv; charset=utf-8", plot.csv.into_bytes()),
        _ => return not_found(),
    };
    let disposition = if extension == "svg" { "inline".to_owned() } else { format!("attachment; filename=\"registry-{instrument}-{kind}.{extension}\"") };
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
            // An SVG opened on its own must not run anything.
            (axum::http::header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'".to_owned()),
            (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        body,
    )
        .into_response()
}

fn rows(analysis: &Analysis) -> Vec<Row> {
    let mut out = Vec::new();
    for group in analysis.report.groups.iter().chain(std::iter::once(&analysis.report.pooled)) {
        let name = match &group.group {
            Some(g) => format!("{} · {} · {}", g.indication, g.product_type, g.site),
            None => "All patients (pooled)".to_owned(),
        };
        let ae = group.adverse_events.events_per_patient.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into());
        for t in &group.time_points {
            let change = t.change.map(|c| format!("{:+.2} [{:+.2}, {:+.2}] (n={})", c.mean, c.lower, c.upper, c.n)).unwrap_or_else(|| "— (fewer than 2)".into());
            let responders = t.responders.as_ref().map(|p| format!("{}/{} = {:.0} % [{:.0}, {:.0}]", p.k, p.n, p.estimate * 100.0, p.lower * 100.0, p.upper * 100.0)).unwrap_or_else(|| "—".into());
            out.push((name.clone(), t.time_point.clone(), t.n_treated, t.n_followed, t.n_missing, change, responders, ae.clone()));
        }
    }
    out
}

/// The registry page.
pub async fn registry_page(AxumState(state): AxumState<AppState>, Can { viewer, .. }: Can<ViewPatients>) -> Response {
    let whole = match state.db().load_state().await {
        Ok(s) => s,
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    let analyses = analyse(&whole)
        .iter()
        .map(|a| AnalysisView { heading: format!("{} (MCID {} points, {} patients)", a.instrument, a.mcid.value, a.patients), slug: slug(a.instrument), rows: rows(a) })
        .collect();
    match (RegistryPage { layout: Some(Layout::new(&viewer, "registry")), analyses }).render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// The aggregate export that may be published: every cell under five
/// patients is suppressed (numbers withheld), per analysed instrument.
pub fn public_export(state: &State) -> serde_json::Value {
    let analyses: Vec<serde_json::Value> = analyse(state)
        .iter()
        .map(|a| serde_json::json!({ "instrument": a.instrument, "mcid": a.mcid, "rows": celltrace_outcomes::stats::public_export(&a.report) }))
        .collect();
    serde_json::json!({ "suppression": "cells with fewer than 5 patients are withheld", "analyses": analyses })
}

/// The same export as CSV: one line per instrument, group and time point.
pub fn public_export_csv(state: &State) -> String {
    use celltrace_outcomes::stats::Cell;
    let mut out = String::from("instrument,indication,product_type,site,time_point,n_treated,n_followed,n_missing,mean_change,change_lower,change_upper,responders,responders_n,responders_lower,responders_upper\n");
    let field = |text: &str| if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() };
    for a in analyse(state) {
        for row in celltrace_outcomes::stats::public_export(&a.report) {
            let (indication, product, site) = match &row.group {
                Some(g) => (g.indication.clone(), g.product_type.clone(), g.site.clone()),
                None => ("all".into(), "all".into(), "all".into()),
            };
            let treated = match row.n_treated {
                Cell::Shown(n) => n.to_string(),
                Cell::Suppressed => "suppressed".into(),
            };
            for (point, cell) in &row.time_points {
                let numbers = match cell {
                    Cell::Suppressed => vec!["suppressed".to_owned(); 9],
                    Cell::Shown(t) => {
                        let opt = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
                        vec![
                            t.n_followed.to_string(),
                            t.n_missing.to_string(),
                            opt(t.change.map(|c| c.mean)),
                            opt(t.change.map(|c| c.lower)),
                            opt(t.change.map(|c| c.upper)),
                            t.responders.as_ref().map(|p| p.k.to_string()).unwrap_or_default(),
                            t.responders.as_ref().map(|p| p.n.to_string()).unwrap_or_default(),
                            opt(t.responders.as_ref().map(|p| p.lower)),
                            opt(t.responders.as_ref().map(|p| p.upper)),
                        ]
                    }
                };
                let line: Vec<String> = [a.instrument.to_owned(), indication.clone(), product.clone(), site.clone(), point.clone(), treated.clone()]
                    .into_iter()
                    .chain(numbers)
                    .map(|f| field(&f))
                    .collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
        }
    }
    out
}

/// `GET /registry/export.csv` and `.json`: the publishable aggregate export.
pub async fn export(AxumState(state): AxumState<AppState>, Can { .. }: Can<ViewPatients>, axum::extract::Path(format): axum::extract::Path<String>) -> Response {
    let whole = match state.db().load_state().await {
        Ok(s) => s,
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    match format.as_str() {
        "export.csv" => ([(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")], public_export_csv(&whole)).into_response(),
        "export.json" => axum::Json(public_export(&whole)).into_response(),
        _ => auth::refusal(StatusCode::NOT_FOUND, "Choose export.csv or export.json."),
    }
}
