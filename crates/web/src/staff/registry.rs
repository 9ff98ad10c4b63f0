//! The outcomes registry: its page, the publishable export and the plots.
//! The registry is read from the index (treated plans a page at a time, the
//! adverse events of each page's patients) and computed by the pure
//! `celltrace-registry`; the result is kept in [`RegistryCache`] until the
//! engine bumps the `registry` generation, which it does in the same
//! transaction as any change to a treated plan or an adverse event. So a
//! request while nothing changed costs one lookup, and a change costs one
//! computation however many requests arrive together.

use crate::auth::{Can, ViewPatients};
use crate::error::AppError;
use crate::kit::layout::Layout;
use crate::kit::records::render;
use crate::routes::{Access, Route};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use celltrace_domain::access::Permission;
use celltrace_domain::ids::PersonId;
use celltrace_domain::index::Index;
use celltrace_domain::model::{AdverseEvent, Plan};
use celltrace_registry::{slug, Analysis, Cohort};
use celltrace_store::read::Reader;
use celltrace_store::StoreError;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The routes of the registry.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/registry", Access::Staff(Permission::ViewPatients), registry_page),
        Route::get("/registry/{format}", Access::Staff(Permission::ViewPatients), export),
        Route::get("/registry/plots/{instrument}/{file}", Access::Staff(Permission::ViewPatients), plot_file),
    ]
}

/// Treated plans read per query: small enough to keep each query and the
/// plans in memory small, large enough that a registry of thousands of
/// patients is a few dozen queries. Only the registry records are kept.
pub const PLANS_PER_READ: u32 = 100;

/// The registry as the read model holds it now: every treated plan, read a
/// page at a time through `Index::TreatedPlans`, with the adverse events of
/// each page's patients. Used by the pages (through [`RegistryCache`]) and
/// by `celltrace registry report`.
pub async fn read_registry(reader: &Reader) -> Result<Vec<Analysis>, StoreError> {
    let mut cohort = Cohort::new();
    let mut after = None;
    loop {
        let page = reader.page::<Plan>(Index::TreatedPlans, "all", after.as_ref(), PLANS_PER_READ).await?;
        let mut patients: Vec<PersonId> = page.items.iter().map(|p| p.patient.clone()).collect();
        patients.sort();
        patients.dedup();
        let mut events: BTreeMap<PersonId, Vec<AdverseEvent>> = BTreeMap::new();
        for event in reader.adverse_events_of(&patients).await? {
            events.entry(event.patient.clone()).or_default().push(event);
        }
        for plan in &page.items {
            cohort.add(plan, events.get(&plan.patient).map_or(&[][..], Vec::as_slice));
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(cohort.analyse()),
        }
    }
}

/// The last computed registry and the `registry` generation it was read at.
#[derive(Debug, Default)]
pub struct RegistryCache {
    // A tokio mutex held across the computation: requests that find the
    // generation changed queue behind the one computing, then take its result.
    computed: tokio::sync::Mutex<Option<(i64, Arc<Vec<Analysis>>)>>,
}

impl RegistryCache {
    /// The registry at the current generation: the cached one when nothing
    /// it counts has changed since, otherwise read and computed once.
    pub async fn current(&self, reader: &Reader) -> Result<Arc<Vec<Analysis>>, StoreError> {
        // Read before the plans: a change committed during the computation
        // carries a later generation, so the next request computes again.
        let generation = reader.generation("registry").await?;
        let mut computed = self.computed.lock().await;
        if let Some((at, analyses)) = computed.as_ref() {
            if *at >= generation {
                return Ok(analyses.clone());
            }
        }
        let analyses = Arc::new(read_registry(reader).await?);
        *computed = Some((generation, analyses.clone()));
        Ok(analyses)
    }
}

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

/// `GET /registry`: the statistics of every analysed score, by group and pooled.
async fn registry_page(State(state): State<AppState>, Can { viewer, .. }: Can<ViewPatients>) -> Result<Response, AppError> {
    let analyses = state.registry.current(state.reader()).await?;
    let analyses = analyses
        .iter()
        .map(|a| AnalysisView { heading: format!("{} (MCID {} points, {} patients)", a.instrument, a.mcid.value, a.patients), slug: slug(a.instrument), rows: rows(a) })
        .collect();
    render(&RegistryPage { layout: Some(Layout::new(&viewer, "registry")), analyses })
}

/// `GET /registry/export.csv` and `.json`: the publishable aggregate export.
async fn export(State(state): State<AppState>, Can { .. }: Can<ViewPatients>, Path(format): Path<String>) -> Result<Response, AppError> {
    let analyses = state.registry.current(state.reader()).await?;
    match format.as_str() {
        "export.csv" => Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], celltrace_registry::export::csv(&analyses)).into_response()),
        "export.json" => Ok(axum::Json(celltrace_registry::export::json(&analyses)).into_response()),
        _ => Err(AppError::not_found("That export (there are export.csv and export.json)")),
    }
}

/// `GET /registry/plots/{instrument}/{file}`: `change`, `responders` or
/// `adverse-events`, as `.svg`, `.png` or `.csv`, of the pooled cohort.
async fn plot_file(State(state): State<AppState>, Can { .. }: Can<ViewPatients>, Path((instrument, file)): Path<(String, String)>) -> Result<Response, AppError> {
    let no_such_plot = || AppError::not_found("That plot (plots are change, responders and adverse-events, as .svg, .png or .csv)");
    let (kind, extension) = file.rsplit_once('.').ok_or_else(no_such_plot)?;
    if !matches!(kind, "change" | "responders" | "adverse-events") || !matches!(extension, "svg" | "png" | "csv") {
        return Err(no_such_plot());
    }
    let analyses = state.registry.current(state.reader()).await?;
    let analysis = analyses.iter().find(|a| slug(a.instrument) == instrument).ok_or_else(no_such_plot)?;
    let plots = celltrace_plots::group_plots(&analysis.report.pooled, analysis.instrument).map_err(|e| AppError::internal(format!("the {instrument} plots could not be drawn: {e}")))?;
    let plot = match kind {
        "change" => plots.change,
        "responders" => plots.responders,
        _ => plots.time_to_first_ae,
    };
    let (content_type, body) = match extension {
        "svg" => ("image/svg+xml", plot.svg.into_bytes()),
        "png" => ("image/png", plot.png),
        _ => ("text/csv; charset=utf-8", plot.csv.into_bytes()),
    };
    let disposition = if extension == "svg" { "inline".to_owned() } else { format!("attachment; filename=\"registry-{instrument}-{kind}.{extension}\"") };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            // An SVG opened on its own must not run anything.
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        body,
    )
        .into_response())
}
