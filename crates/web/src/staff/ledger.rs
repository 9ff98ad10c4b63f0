//! The ledger page: the chain's head and its newest signed tree head, and its newest entries
//! a page at a time (`?before=`) — only those written at the sites where the
//! viewer may see the audit trail, so an auditor who belongs to every site
//! of the network sees the whole network and a site's medical director only
//! their site. And verification of the whole chain from the browser: it
//! runs in the background (it reads every entry), one at a time, and its
//! result is kept in the database for the ledger page of any server.

use crate::auth::{Can, ViewAudit, Viewer};
use crate::error::AppError;
use crate::kit::layout::{when, Layout};
use crate::kit::records::render;
use crate::routes::{Access, Route};
use crate::staff::audit::TimelineRow;
use crate::{now_micros, AppState};
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use celltrace_domain::access::{staff_allows, Permission};
use celltrace_domain::ids::SiteId;
use celltrace_domain::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The ledger page and its verification.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/ledger", Access::Staff(Permission::ViewAudit), ledger),
        Route::post("/ledger/verify", Access::Staff(Permission::ViewAudit), ledger_verify),
    ]
}

/// Entries of one page of the ledger.
const LEDGER_PAGE: u32 = 50;
/// Where the last verification's state is kept (the `settings` table).
const VERIFICATION: &str = "ledger_verification";
/// A verification still "running" after this long died with its server.
const STALE_MICROS: i64 = 3_600_000_000;
/// Findings kept for the page; the count says how many there were.
const FINDINGS_KEPT: usize = 100;

/// The last verification started from the browser.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Verification {
    started_at: i64,
    by: String,
    /// `None` while it runs.
    outcome: Option<Outcome>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Outcome {
    finished_at: i64,
    ok: bool,
    summary: String,
    findings: Vec<String>,
    findings_total: usize,
}

/// The last verification as the page shows it.
struct VerificationView {
    /// Who started it, when.
    started: String,
    /// `None` while it runs.
    result: Option<VerificationResult>,
}

struct VerificationResult {
    ok: bool,
    summary: String,
    findings: Vec<String>,
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    layout: Option<Layout>,
    csrf: String,
    entries: u64,
    /// Entries the newest signed tree head covers.
    covered: u64,
    head: String,
    /// The sites whose entries are listed.
    sites: String,
    /// The last verification started from the browser.
    verification: Option<VerificationView>,
    latest: Vec<TimelineRow>,
    next: Option<String>,
    first_page: bool,
}

/// `?before=` of the ledger page.
#[derive(Debug, Default, Deserialize)]
struct LedgerQuery {
    #[serde(default)]
    before: Option<u64>,
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The sites where the viewer may see the audit trail.
fn audit_sites(viewer: &Viewer) -> Vec<SiteId> {
    viewer.staff.memberships.iter().filter(|m| staff_allows(&viewer.staff, &m.site, Permission::ViewAudit)).map(|m| m.site.clone()).collect()
}

async fn last_verification(state: &AppState) -> Result<Option<Verification>, AppError> {
    match state.db().setting(VERIFICATION).await? {
        Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| AppError::internal(format!("the stored ledger verification is damaged: {e}"))),
        None => Ok(None),
    }
}

async fn ledger(State(state): State<AppState>, Can { viewer, .. }: Can<ViewAudit>, Query(query): Query<LedgerQuery>) -> Result<Response, AppError> {
    let reader = state.reader();
    let head = reader.head().await?;
    let covered = reader.latest_tree_head().await?.map_or(0, |t| t.size);
    let sites = audit_sites(&viewer);
    let page = reader.ledger_of_sites(&sites, query.before, LEDGER_PAGE).await?;
    let verification = last_verification(&state).await?.map(|v| {
        let started = format!("started by {} at {} UTC", v.by, when(Timestamp(v.started_at)));
        let outcome = v.outcome.map(|o| {
            let mut findings = o.findings;
            if o.findings_total > findings.len() {
                findings.push(format!("… and {} more: run celltrace verify on the server for all of them.", o.findings_total - findings.len()));
            }
            VerificationResult { ok: o.ok, summary: format!("{} (finished {} UTC)", o.summary, when(Timestamp(o.finished_at))), findings }
        });
        VerificationView { started, result: outcome }
    });
    let names: Vec<&str> = viewer.sites.iter().filter(|s| sites.contains(&s.id)).map(|s| s.name.as_str()).collect();
    render(&LedgerPage {
        layout: Some(Layout::new(&viewer, "ledger")),
        csrf: viewer.session.csrf_token.clone(),
        entries: head.seq,
        covered,
        head: celltrace_ledger::to_hex(&head.hash),
        sites: names.join(", "),
        verification,
        latest: page.entries.iter().map(|(e, _)| TimelineRow::of(e)).collect(),
        next: page.next_before.map(|before| format!("/ledger?before={before}")),
        first_page: query.before.is_none(),
    })
}

/// Starts a verification of the whole chain in the background and goes
/// back to the ledger page, which shows it running and then its result.
async fn ledger_verify(State(state): State<AppState>, Can { viewer, .. }: Can<ViewAudit>, Form(form): Form<CsrfForm>) -> Result<Response, AppError> {
    viewer.require_csrf(&form.csrf)?;
    let key = state
        .config
        .verifying_key
        .ok_or_else(|| AppError::bad_request("This server was started without the deployment's key, so it cannot check the tree heads' signatures: run celltrace verify on the server instead."))?;
    let now = now_micros();
    if let Some(v) = last_verification(&state).await? {
        if v.outcome.is_none() && now - v.started_at < STALE_MICROS {
            return Err(AppError::too_many(30, format!("A verification started at {} UTC is still running; its result will show on the ledger page.", when(Timestamp(v.started_at)))));
        }
    }
    let running = Verification { started_at: now, by: viewer.staff.id.to_string(), outcome: None };
    state.db().set_setting(VERIFICATION, &serde_json::to_string(&running).map_err(AppError::internal)?).await?;
    let db = state.db().clone();
    tokio::spawn(async move {
        let outcome = match celltrace_store::verify::verify(&db, &key).await {
            Ok(report) => Outcome {
                finished_at: now_micros(),
                ok: report.ok(),
                summary: format!(
                    "{}: {} entries, {} signed tree heads and {} records checked; {} entries not yet covered",
                    if report.ok() { "Verified" } else { "FAILED" },
                    report.entries,
                    report.tree_heads + report.checkpoints,
                    report.entities,
                    report.uncovered
                ),
                findings_total: report.findings.len(),
                findings: report.findings.into_iter().take(FINDINGS_KEPT).collect(),
            },
            Err(e) => {
                tracing::error!(error = %e, "the ledger verification started from the browser could not finish");
                Outcome { finished_at: now_micros(), ok: false, summary: "The verification could not finish: the database did not answer. Start it again.".into(), findings: Vec::new(), findings_total: 0 }
            }
        };
        let done = Verification { outcome: Some(outcome), ..running };
        let stored = match serde_json::to_string(&done) {
            Ok(text) => db.set_setting(VERIFICATION, &text).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = stored {
            tracing::error!(error = %e, "the ledger verification's result could not be stored");
        }
    });
    Ok(Redirect::to("/ledger").into_response())
}
