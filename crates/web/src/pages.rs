//! The staff web application's pages. Each handler states the capability it
//! needs in its signature (`Can<...>`); writes go through the engine as the
//! signed-in person, and every read of a patient's record is recorded.

use crate::routes::{Access, Route};
use celltrace_domain::access::Permission;
use crate::auth::{self, Administer, Can, ViewAudit, ViewDashboard, ViewPatients, ViewUnits};
use crate::view::*;
use crate::{now_micros, AppState};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::{AdministrationId, CommandId, PersonId, SiteId, StaffId, UnitId};
use celltrace_domain::model::*;
use celltrace_domain::time::Timestamp;
use celltrace_domain::{bedside_checks, EntityKey, EntityKind, Event};
use celltrace_store::scan::Resolution;
use celltrace_store::SubmitError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The pages and their forms.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/", Access::Staff(Permission::ViewDashboard), dashboard),
        Route::get("/login", Access::Public, login_form),
        Route::post("/login", Access::Public, login),
        Route::post("/logout", Access::SignedIn, logout),
        Route::get("/setup", Access::Public, setup_form),
        Route::post("/setup", Access::Public, setup),
        Route::post("/site", Access::SignedIn, switch_site),
        Route::get("/patients", Access::Staff(Permission::ViewPatients), patients),
        Route::get("/patients/{id}", Access::Staff(Permission::ViewPatients), patient),
        Route::get("/units", Access::Staff(Permission::ViewUnits), units),
        Route::get("/units/{id}", Access::Staff(Permission::ViewUnits), unit),
        Route::get("/units/{id}/label.png", Access::Staff(Permission::ViewUnits), label_png),
        Route::get("/units/{id}/label.pdf", Access::Staff(Permission::ViewUnits), label_pdf),
        Route::get("/audit/{kind}/{id}", Access::Staff(Permission::ViewAudit), audit),
        Route::get("/ledger", Access::Staff(Permission::ViewAudit), ledger),
        Route::post("/ledger/verify", Access::Staff(Permission::ViewAudit), ledger_verify),
        Route::get("/bedside", Access::Staff(Permission::Administer), bedside_form),
        Route::post("/bedside", Access::Staff(Permission::Administer), bedside_check),
        Route::post("/bedside/administer", Access::Staff(Permission::Administer), bedside_administer),
    ]
}


/// Records in the ledger that the viewer saw a patient's identifying data;
/// the page is not shown if the record cannot be written.
pub(crate) async fn record_view(state: &AppState, viewer: &auth::Viewer, person: &PersonId, view: &str) -> Result<(), Response> {
    record_view_via(state, viewer, person, view, None).await
}

/// Records a read of a patient's identity shown on a unit of this site
/// (an autologous label), which staff without patient access may see.
pub(crate) async fn record_view_via(state: &AppState, viewer: &auth::Viewer, person: &PersonId, view: &str, unit: Option<&UnitId>) -> Result<(), Response> {
    let command = Command::RecordRecordViewed { person: person.clone(), view: view.to_owned(), via_unit: unit.cloned() };
    match submit_as(state, &viewer.staff.id, &viewer.site.id, command).await {
        Ok(_) => Ok(()),
        Err(Ok(message)) => Err(auth::refusal(StatusCode::FORBIDDEN, &message)),
        Err(Err(r)) => Err(r),
    }
}

fn render<T: Template>(page: T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("template failed: {e}");
            auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, "This page could not be shown; the error is logged.")
        }
    }
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!("storage: {e}");
    auth::refusal(StatusCode::SERVICE_UNAVAILABLE, "The database is not reachable right now; nothing was changed. Try again.")
}

fn not_found(what: &str) -> Response {
    auth::refusal(StatusCode::NOT_FOUND, &format!("{what} was not found at this site. Check the link, or switch to the site it belongs to."))
}

fn new_command_id() -> Result<CommandId, Response> {
    CommandId::parse(&uuid::Uuid::now_v7().to_string()).map_err(|e| auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))
}

async fn submit_as(state: &AppState, staff: &StaffId, site: &SiteId, command: Command) -> Result<Vec<Event>, Result<String, Response>> {
    let id = new_command_id().map_err(Err)?;
    let submission = Submission { id, actor: Actor::Staff(staff.clone()), site: site.clone(), at: Timestamp(now_micros()), command };
    match state.engine.submit(submission).await {
        Ok(receipt) => Ok(receipt.events),
        Err(SubmitError::Rejected(r)) => Err(Ok(r.message)),
        Err(SubmitError::Store(e)) => Err(Err(unavailable(e))),
    }
}

// ---------- sign-in, sign-out, first start ----------

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn demo_accounts(state: &AppState) -> Vec<DemoAccount> {
    if !matches!(state.db().setting("demo").await, Ok(Some(v)) if v == "loaded") {
        return Vec::new();
    }
    let mut staff: Vec<Staff> = Vec::new();
    for site in state.reader().sites().await.unwrap_or_default() {
        let page = state.reader().page::<Staff>(celltrace_domain::index::Index::SiteStaff, site.id.as_str(), None, 50).await;
        staff.extend(page.map(|p| p.items).unwrap_or_default().into_iter().filter(|s| s.memberships.first().is_some_and(|m| m.site == site.id)));
    }
    let mut accounts: Vec<DemoAccount> = staff
        .iter()
        .filter_map(|s| {
            let first = s.memberships.first()?;
            Some(DemoAccount {
                role: first.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", "),
                username: s.username.clone(),
                name: s.name.clone(),
                site: if s.memberships.len() > 1 { format!("{} sites", s.memberships.len()) } else { first.site.to_string() },
            })
        })
        .collect();
    accounts.sort_by(|a, b| a.role.cmp(&b.role).then(a.username.cmp(&b.username)));
    accounts
}

/// Renders a page that posts before a session exists (sign-in, first start):
/// its CSRF token lives in a cookie of its own, reused while it lasts.
pub(crate) fn with_login_csrf(secure: bool, headers: &HeaderMap, status: StatusCode, page: impl FnOnce(String) -> Response) -> Response {
    let csrf = match auth::cookie(headers, auth::LOGIN_CSRF_COOKIE).filter(|c| c.len() == 64) {
        Some(c) => c,
        None => match auth::random_token() {
            Ok(t) => t,
            Err(e) => return auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e),
        },
    };
    let mut response = page(csrf.clone());
    *response.status_mut() = status;
    if let Ok(value) = auth::set_cookie(secure, auth::LOGIN_CSRF_COOKIE, &csrf, 3600).parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn login_page(state: &AppState, headers: &HeaderMap, error: Option<String>, username: String, status: StatusCode) -> Response {
    let demo_accounts = demo_accounts(state).await;
    with_login_csrf(state.config.https(), headers, status, |csrf| render(LoginPage { layout: None, csrf, error, username, demo_accounts, demo_password: "celltrace-demo" }))
}

async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if matches!(state.db().credential_count().await, Ok(0)) {
        return Redirect::to("/setup").into_response();
    }
    login_page(&state, &headers, None, String::new(), StatusCode::OK).await
}

async fn login(State(state): State<AppState>, client: auth::ClientAddr, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    let expected = auth::cookie(&headers, auth::LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !auth::same_secret(&form.csrf, &expected) {
        return auth::refusal(StatusCode::FORBIDDEN, "This sign-in form has expired or did not come from celltrace. Reload the page and try again.");
    }
    let db = state.db();
    let now = now_micros();
    let staff_id = match db.staff_by_username(&form.username).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let stored = match &staff_id {
        Some(id) => match db.password_hash(id).await {
            Ok(h) => h,
            Err(e) => return unavailable(e),
        },
        None => None,
    };
    // Unknown usernames are checked against a dummy hash: the answer takes as long.
    let account = auth::gate::account_key("staff", &form.username);
    let verdict = match auth::gate::check(db, &account, client.0, now, auth::passwords::matches(form.password.clone(), stored)).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let staff: Option<Staff> = match (&staff_id, verdict) {
        (Some(id), auth::gate::Verdict::Accepted) => match state.reader().get::<Staff>(id.as_str()).await {
            Ok(s) => s.filter(|s| s.active),
            Err(e) => return unavailable(e),
        },
        (_, auth::gate::Verdict::Throttled { retry_after_seconds }) => {
            let message = format!("Too many sign-in attempts for this username from this computer. Wait {retry_after_seconds} seconds and try again, or ask an administrator.");
            let mut page = login_page(&state, &headers, Some(message), form.username, StatusCode::TOO_MANY_REQUESTS).await;
            if let Ok(v) = retry_after_seconds.to_string().parse() {
                page.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return page;
        }
        _ => None,
    };
    let Some(staff) = staff else {
        return login_page(&state, &headers, Some("The username or password is not right.".into()), form.username, StatusCode::UNAUTHORIZED).await;
    };
    let (Ok(token), Ok(csrf)) = (auth::random_token(), auth::random_token()) else {
        return auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, "No randomness available for a session.");
    };
    let Some(site) = staff.memberships.first().map(|m| m.site.clone()) else {
        return auth::refusal(StatusCode::FORBIDDEN, "Your account belongs to no site. Ask an administrator.");
    };
    let session = celltrace_store::accounts::Session { staff: staff.id.clone(), site, csrf_token: csrf, expires_at: now + auth::SESSION_MICROS };
    if let Err(e) = db.create_session(&token, &session, now).await {
        return unavailable(e);
    }
    let mut response = Redirect::to("/").into_response();
    let headers_out = response.headers_mut();
    if let Ok(v) = auth::set_cookie(state.config.https(), auth::SESSION_COOKIE, &token, auth::SESSION_MICROS / 1_000_000).parse() {
        headers_out.append(header::SET_COOKIE, v);
    }
    if let Ok(v) = auth::set_cookie(state.config.https(), auth::LOGIN_CSRF_COOKIE, "", 0).parse() {
        headers_out.append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(State(state): State<AppState>, client: auth::ClientAddr, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    let viewer = match auth::viewer(&state, &headers, client).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = viewer.check_csrf(&form.csrf) {
        return r;
    }
    if let Err(e) = state.db().end_session(&viewer.token).await {
        return unavailable(e);
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(v) = auth::set_cookie(state.config.https(), auth::SESSION_COOKIE, "", 0).parse() {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

async fn setup_page(secure: bool, headers: &HeaderMap, error: Option<String>, form: SetupForm, status: StatusCode) -> Response {
    with_login_csrf(secure, headers, status, |csrf| render(SetupPage { layout: None, csrf, error, form: SetupForm { password: String::new(), ..form } }))
}

async fn setup_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match state.db().credential_count().await {
        Ok(0) => setup_page(state.config.https(), &headers, None, SetupForm { country: String::new(), ..SetupForm::default() }, StatusCode::OK).await,
        Ok(_) => Redirect::to("/login").into_response(),
        Err(e) => unavailable(e),
    }
}

fn slug(text: &str) -> String {
    let s: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    s.chars().take(40).collect()
}

async fn setup(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<SetupForm>) -> Response {
    let expected = auth::cookie(&headers, auth::LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !auth::same_secret(&form.csrf, &expected) {
        return auth::refusal(StatusCode::FORBIDDEN, "This form has expired or did not come from celltrace. Reload the page and try again.");
    }
    let db = state.db();
    match db.credential_count().await {
        Ok(0) => {}
        Ok(_) => return Redirect::to("/login").into_response(),
        Err(e) => return unavailable(e),
    }
    if let Some(problem) = auth::password_problem(&form.password, &[&form.username, &form.name]) {
        return setup_page(state.config.https(), &headers, Some(format!("Password: {}", problem.message())), form, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let site_slug = slug(&form.site_name);
    let (Ok(site), Ok(staff)) = (SiteId::parse(if site_slug.is_empty() { "site" } else { &site_slug }), StaffId::parse(&slug(&form.username).replace('-', "."))) else {
        return setup_page(state.config.https(), &headers, Some("Use letters and digits in the site name and username.".into()), form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let system = Actor::System("setup".into());
    let now = Timestamp(now_micros());
    let commands = [
        Command::RegisterSite {
            site: site.clone(),
            name: form.site_name.clone(),
            kind: SiteKind::Clinic,
            country: form.country.trim().to_uppercase(),
            accreditations: Vec::new(),
            fin: form.fin.trim().to_uppercase(),
        },
        Command::RegisterStaff {
            staff: staff.clone(),
            name: form.name.clone(),
            username: form.username.trim().to_owned(),
            memberships: vec![Membership { site: site.clone(), roles: [Role::Administrator].into_iter().collect() }],
        },
    ];
    let hash = match auth::passwords::hash(form.password.clone()).await {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    // The first password is a ledger event too (its hash is stored beside, in the same transaction).
    let password = (Command::SetPassword { staff: staff.clone(), change: PasswordChange::Initial }, celltrace_store::Secret::Password { staff: staff.clone(), hash, end_sessions: false });
    let steps = commands.into_iter().map(|c| (c, None)).chain(std::iter::once((password.0, Some(password.1))));
    for (command, secret) in steps {
        let id = match new_command_id() {
            Ok(id) => id,
            Err(r) => return r,
        };
        let submission = Submission { id, actor: system.clone(), site: site.clone(), at: now, command };
        let outcome = match secret {
            Some(secret) => state.engine.submit_with_secret(submission, secret).await,
            None => state.engine.submit(submission).await,
        };
        match outcome {
            Ok(_) => {}
            Err(SubmitError::Rejected(r)) => return setup_page(state.config.https(), &headers, Some(r.message), form, StatusCode::UNPROCESSABLE_ENTITY).await,
            Err(SubmitError::Store(e)) => return unavailable(e),
        }
    }
    Redirect::to("/login").into_response()
}

#[derive(Deserialize)]
struct SiteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    site: String,
}

async fn switch_site(State(state): State<AppState>, client: auth::ClientAddr, headers: HeaderMap, Form(form): Form<SiteForm>) -> Response {
    let viewer = match auth::viewer(&state, &headers, client).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = viewer.check_csrf(&form.csrf) {
        return r;
    }
    let Some(site) = viewer.sites.iter().find(|s| s.id.as_str() == form.site) else {
        return auth::refusal(StatusCode::FORBIDDEN, "You do not belong to that site.");
    };
    match state.db().set_session_site(&viewer.token, &site.id).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => unavailable(e),
    }
}

// ---------- dashboard ----------

/// How many rows a dashboard queue shows before it links to the whole list.
const QUEUE: u32 = 25;

fn person_name(people: &BTreeMap<String, Person>, id: &str) -> String {
    people.get(id).map(|p| p.name.clone()).unwrap_or_else(|| id.to_owned())
}

/// A queue's rows and, when there are more, a note that says where the rest are.
fn queue_note(items: &mut Vec<Item>, more: bool, whole_list: &str) {
    if more {
        items.push(Item { id: String::new(), label: format!("More in {whole_list}"), detail: String::new(), status: "more".into(), site: String::new() });
    }
}

/// The plans of `site` whose follow-up window of some time point is open
/// today: for each product type and time point, the plans treated on the
/// days that put today inside the window (one index range each).
async fn follow_ups_due(state: &AppState, site: &celltrace_domain::ids::SiteId, today: i64) -> Result<Vec<Plan>, celltrace_store::StoreError> {
    use celltrace_domain::{Reference, TimePointWindow};
    let mut plans: BTreeMap<String, Plan> = BTreeMap::new();
    for product_type in ProductType::ALL {
        for time_point in state.reference.time_points(product_type) {
            if let Some(TimePointWindow::AfterTreatment { opens, closes }) = state.reference.time_point(product_type, &time_point) {
                for plan in state.reader().plans_treated_between(site, product_type, today - closes, today - opens).await? {
                    plans.insert(plan.id.to_string(), plan);
                }
            }
        }
    }
    Ok(plans.into_values().collect())
}

async fn dashboard(State(state): State<AppState>, Can { viewer, .. }: Can<ViewDashboard>) -> Response {
    use celltrace_domain::index::{scoped, Index};
    let site = &viewer.site.id;
    let now = Timestamp(now_micros());
    let reader = state.reader();
    let loaded = async {
        let quarantine = reader.page::<Unit>(Index::SiteUnitsByStatus, &scoped(site, "quarantine"), None, QUEUE).await?;
        let incoming = reader.page::<Shipment>(Index::ShipmentsTo, &scoped(site, "in_transit"), None, QUEUE).await?;
        let outgoing = reader.page::<Shipment>(Index::ShipmentsFrom, &scoped(site, "in_transit"), None, QUEUE).await?;
        let awaiting = reader.page::<Plan>(Index::SitePlans, &scoped(site, "awaiting"), None, QUEUE).await?;
        let blocked = reader.page::<Plan>(Index::SitePlans, &scoped(site, "blocked"), None, QUEUE).await?;
        let adverse = reader.page::<AdverseEvent>(Index::SiteAdverseEvents, &scoped(site, "open"), None, QUEUE).await?;
        let due = follow_ups_due(&state, site, now.0.div_euclid(Timestamp::DAY)).await?;
        Ok::<_, celltrace_store::StoreError>((quarantine, incoming, outgoing, awaiting, blocked, adverse, due))
    };
    let (quarantine, incoming, outgoing, awaiting, blocked, adverse, due) = match loaded.await {
        Ok(l) => l,
        Err(e) => return unavailable(e),
    };
    let mut ids: Vec<String> = awaiting.items.iter().chain(&blocked.items).chain(&due).map(|p| p.patient.to_string()).collect();
    ids.extend(adverse.items.iter().map(|a| a.patient.to_string()));
    ids.sort();
    ids.dedup();
    let people: BTreeMap<String, Person> = match reader.get_many::<Person>(&ids).await {
        Ok(p) => p.into_iter().map(|p| (p.id.to_string(), p)).collect(),
        Err(e) => return unavailable(e),
    };
    let item = |id: String, label: String, detail: String| Item { id, label, detail, status: String::new(), site: String::new() };
    let mut quarantine_items: Vec<Item> = quarantine
        .items
        .iter()
        .map(|u| item(u.id.to_string(), format!("{} {}", u.din, u.product_code), format!("{} QC result(s), expires {}", u.qc.len(), when(u.expires_at))))
        .collect();
    queue_note(&mut quarantine_items, quarantine.next.is_some(), "the units list (status: quarantine)");
    let mut transit: Vec<Item> = incoming
        .items
        .iter()
        .map(|s| (s, "incoming"))
        .chain(outgoing.items.iter().map(|s| (s, "outgoing")))
        .map(|(s, direction)| Item {
            status: direction.into(),
            ..item(s.id.to_string(), format!("{} → {}", s.from_site, s.to_site), format!("{} unit(s) by {}", s.units.len(), s.courier))
        })
        .collect();
    queue_note(&mut transit, incoming.next.is_some() || outgoing.next.is_some(), "the ledger");
    let mut ready: Vec<Item> = awaiting
        .items
        .iter()
        .filter(|p| p.current_consent().is_some() && p.current_eligibility().is_some_and(|e| e.eligible() && now <= e.valid_until))
        .map(|p| item(p.patient.to_string(), person_name(&people, p.patient.as_str()), format!("plan {} · {} · {}", p.id, p.product_type.code(), p.indication.name)))
        .collect();
    queue_note(&mut ready, awaiting.next.is_some(), "the patients list");
    let mut follow_ups = Vec::new();
    for p in due.iter().filter(|p| p.current_consent().is_some()) {
        use celltrace_outcomes::schedule::VisitState;
        let Ok(statuses) = crate::kit::questionnaires::plan_status(p, now) else { continue };
        for s in statuses.iter().filter(|s| matches!(s.state, VisitState::Due | VisitState::Overdue)) {
            let when = match (s.state, s.closes) {
                (VisitState::Overdue, Some(d)) => format!("overdue, window closes {}", celltrace_domain::time::Date::from_days_since_epoch(d)),
                (_, Some(d)) => format!("due until {}", celltrace_domain::time::Date::from_days_since_epoch(d)),
                (_, None) => "due before the first administration".to_owned(),
            };
            follow_ups.push(item(p.patient.to_string(), person_name(&people, p.patient.as_str()), format!("{} {} {when}", s.time_point, s.instrument)));
        }
    }
    let serious = adverse
        .items
        .iter()
        .filter(|a| a.is_serious() && a.review.is_none())
        .map(|a| Item {
            status: a.id.to_string(),
            ..item(a.patient.to_string(), person_name(&people, a.patient.as_str()), format!("{} grade {}, onset {}", a.term, a.grade, a.onset))
        })
        .collect();
    let mut adverse_items: Vec<Item> = adverse
        .items
        .iter()
        .map(|a| Item {
            status: a.id.to_string(),
            ..item(a.patient.to_string(), person_name(&people, a.patient.as_str()), format!("{} grade {}{}", a.term, a.grade, if a.is_serious() { " · SERIOUS" } else { "" }))
        })
        .collect();
    queue_note(&mut adverse_items, adverse.next.is_some(), "the adverse events list");
    let mut blocked_items: Vec<Item> = blocked
        .items
        .iter()
        .map(|p| item(p.patient.to_string(), person_name(&people, p.patient.as_str()), format!("plan {} · {} for {}", p.id, p.product_type.code(), p.indication.name)))
        .collect();
    queue_note(&mut blocked_items, blocked.next.is_some(), "the patients list");
    render(DashboardPage {
        layout: Some(Layout::new(&viewer, "dashboard")),
        site_name: viewer.site.name.clone(),
        quarantine: quarantine_items,
        transit,
        ready,
        follow_ups,
        serious,
        adverse: adverse_items,
        blocked: blocked_items,
    })
}

// ---------- patients ----------

/// `?q=&kind=&after=&format=` of the patients list.
#[derive(Debug, Default, Deserialize)]
struct PeopleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: Option<PersonKind>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

/// Rows of a list page.
const LIST_PAGE: u32 = 100;

async fn patients(State(state): State<AppState>, Can { viewer, .. }: Can<ViewPatients>, Query(query): Query<PeopleQuery>) -> Response {
    let kind = query.kind.unwrap_or(PersonKind::Patient);
    if query.format.as_deref() == Some("csv") {
        return patients_csv(&state, &viewer, kind, &query.q).await;
    }
    let page = match state.reader().people(&viewer.site.id, kind, &query.q, query.after.as_deref(), LIST_PAGE).await {
        Ok(p) => p,
        Err(e) => return unavailable(e),
    };
    let people = page
        .people
        .into_iter()
        .map(|p| PersonRow {
            id: p.id.to_string(),
            name: p.name,
            mrn: p.mrn,
            dob: p.date_of_birth.to_string(),
            kind: format!("{:?}", p.kind).to_lowercase(),
            language: format!("{:?}", p.language).to_lowercase(),
        })
        .collect();
    let kind_word = if kind == PersonKind::Donor { "donor" } else { "patient" };
    let next = page.next.map(|after| format!("/patients?kind={kind_word}&q={}&after={}", url_encode(&query.q), url_encode(&after)));
    render(PatientsPage {
        layout: Some(Layout::new(&viewer, "patients")),
        can_record: viewer.can(celltrace_domain::access::Permission::RecordClinical),
        site_name: viewer.site.name.clone(),
        people,
        q: query.q.clone(),
        kind: kind_word.to_owned(),
        next,
        first_page: query.after.is_none(),
    })
}

/// The whole list as CSV, read page by page; every name that leaves in the file is a recorded read.
async fn patients_csv(state: &AppState, viewer: &auth::Viewer, kind: PersonKind, text: &str) -> Response {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = match state.reader().people(&viewer.site.id, kind, text, after.as_deref(), celltrace_store::read::MAX_PAGE).await {
            Ok(p) => p,
            Err(e) => return unavailable(e),
        };
        for p in &page.people {
            if let Err(r) = record_view(state, viewer, &p.id, "patient list exported as CSV").await {
                return r;
            }
            rows.push(vec![p.id.to_string(), p.mrn.clone(), p.name.clone(), p.date_of_birth.to_string(), format!("{:?}", p.kind).to_lowercase(), format!("{:?}", p.sex).to_lowercase(), format!("{:?}", p.language).to_lowercase()]);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    crate::kit::csv::download(&format!("patients-{}.csv", viewer.site.id), &["person_id", "mrn", "name", "date_of_birth", "kind", "sex", "language"], &rows)
}

/// Percent-encodes a query value.
pub(crate) fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn describe_event(payload: &[u8]) -> String {
    match serde_json::from_slice::<Event>(payload) {
        Ok(event) => match &event {
            Event::PlanCreated { plan } => format!("Plan {} created ({:?})", plan.id, plan.status),
            Event::EligibilityAssessed { assessment, .. } => format!("Eligibility assessed: {}", if assessment.eligible() { "eligible" } else { "NOT eligible" }),
            Event::ConsentRecorded { consent, .. } => format!("Consent signed ({} v{})", consent.template, consent.template_version),
            Event::ConsentWithdrawn { withdrawal, .. } => format!("Consent WITHDRAWN: {}", withdrawal.reason),
            Event::CollectionRecorded { unit, tissue, .. } => format!("Collected {:?}: unit {} {}", tissue, unit.din, unit.product_code),
            Event::UnitReleased { exceptional, .. } => if *exceptional { "Unit released EXCEPTIONALLY".into() } else { "Unit released by QA".into() },
            Event::UnitAdministered { administration, .. } => format!("Administered {} at {}", administration.dose, administration.body_site),
            Event::FollowUpRecorded { follow_up, .. } => format!("Follow-up {} {}: {}", follow_up.time_point, follow_up.instrument, follow_up.score_milli.map(|s| format!("{}", s as f64 / 1000.0)).unwrap_or_default()),
            Event::AdverseEventReported { adverse_event } => format!("Adverse event: {} grade {}", adverse_event.term, adverse_event.grade),
            Event::RecordViewed { view, .. } => format!("Record viewed ({view})"),
            other => other.kind().replace('_', " "),
        },
        Err(_) => "unreadable entry".to_owned(),
    }
}

async fn patient(State(state): State<AppState>, Can { viewer, .. }: Can<ViewPatients>, Path(id): Path<String>) -> Response {
    let db = state.db();
    let person: Person = match db.reader().get::<Person>(&id).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found("This patient"),
        Err(e) => return unavailable(e),
    };
    if person.site != viewer.site.id {
        return not_found("This patient");
    }
    // The read is recorded before the record is shown.
    if let Err(r) = record_view(&state, &viewer, &person.id, "patient record").await {
        return r;
    }
    let plans: Vec<Plan> = match db.reader().plans_of(&person.id).await {
        Ok(plans) => plans.into_iter().filter(|p| p.site == viewer.site.id).collect(),
        Err(e) => return unavailable(e),
    };
    // The person's own material, and the units allocated to their plans.
    let mut own_units: Vec<Unit> = match db.reader().units_from(&person.id).await {
        Ok(u) => u,
        Err(e) => return unavailable(e),
    };
    for p in &plans {
        match db.reader().units_for_plan(p.id.as_str()).await {
            Ok(more) => own_units.extend(more.into_iter().filter(|u| u.allocated_to.as_ref() == Some(&p.id))),
            Err(e) => return unavailable(e),
        }
    }
    own_units.sort_by(|a, b| a.id.cmp(&b.id));
    own_units.dedup_by(|a, b| a.id == b.id);
    let units: Vec<&Unit> = own_units.iter().collect();
    let mut keys = vec![EntityKey::new(EntityKind::Person, &person.id)];
    keys.extend(plans.iter().map(|p| EntityKey::new(EntityKind::Plan, &p.id)));
    keys.extend(units.iter().map(|u| EntityKey::new(EntityKind::Unit, &u.id)));
    let mut entries = BTreeMap::new();
    for key in &keys {
        match db.reader().trail(key).await {
            Ok(trail) => entries.extend(trail.into_iter().map(|(e, _)| (e.seq, e))),
            Err(e) => return unavailable(e),
        }
    }
    let timeline = entries
        .values()
        .map(|e| TimelineRow { seq: e.seq, when: when(Timestamp(e.record.recorded_at)), what: describe_event(&e.record.payload), who: e.record.actor.clone() })
        .collect();
    let plan_views = plans
        .iter()
        .map(|p| {
            let mut lines = Vec::new();
            match p.current_eligibility() {
                Some(e) => {
                    for c in &e.criteria {
                        lines.push(format!("{} {}: {}", if c.met { "✔" } else { "✘" }, c.description, c.detail));
                    }
                    lines.push(format!("Eligibility valid until {}", e.valid_until.date()));
                }
                None => lines.push("No eligibility assessment yet".into()),
            }
            match p.consents.last() {
                Some(c) => match &c.withdrawn {
                    Some(w) => lines.push(format!("Consent withdrawn on {}: {}", w.at.date(), w.reason)),
                    None => lines.push(format!("Consent signed {} ({} v{}, {:?})", c.patient_signed_at.date(), c.template, c.template_version, c.language)),
                },
                None => lines.push("No consent yet".into()),
            }
            if let Some(s) = &p.override_signature {
                lines.push(format!("Evidence override signed by {} on {}", s.signer, s.signed_at.date()));
            }
            for a in &p.administrations {
                lines.push(format!("Administered {} on {} ({}), witnessed by {}", a.dose, when(a.at), a.body_site, a.witness));
            }
            for r in &p.responses {
                let scores: Vec<String> = r.scores.iter().map(|(name, s)| format!("{name} {}", s.map(|m| format!("{}", m as f64 / 1000.0)).unwrap_or_else(|| "not scored".into()))).collect();
                let by = match &r.source {
                    celltrace_domain::model::ResponseSource::Portal => "by the patient in the portal".to_owned(),
                    celltrace_domain::model::ResponseSource::Paper(staff) => format!("from paper by {staff}"),
                };
                lines.push(format!("{} {} answered {by} ({:?}): {}", r.time_point, r.instrument, r.language, scores.join(", ")));
            }
            for f in &p.follow_ups {
                lines.push(format!("{} {}: {}", f.time_point, f.instrument, f.score_milli.map(|s| format!("{}", s as f64 / 1000.0)).unwrap_or_else(|| "not scored".into())));
            }
            let (status_class, evidence_class) = (
                match p.status {
                    PlanStatus::Active | PlanStatus::Completed => "ok",
                    PlanStatus::Blocked | PlanStatus::Stopped => "stop",
                },
                match p.evidence.status {
                    EvidenceStatus::Approved => "ok",
                    EvidenceStatus::Investigational => "warn",
                    EvidenceStatus::Unproven | EvidenceStatus::ResearchOnly => "stop",
                },
            );
            PlanView {
                id: p.id.to_string(),
                indication: format!("{} ({})", p.indication.name, p.indication.icd10),
                product: p.product_type.code().to_owned(),
                status: format!("{:?}", p.status).to_lowercase(),
                status_class,
                evidence: format!("{:?}", p.evidence.status).to_lowercase(),
                evidence_class,
                trial: p.trial.as_ref().map(|t| format!("{} (ethics {})", t.registration, t.ethics_approval)),
                blocked_reason: if p.status == PlanStatus::Blocked { p.blocked_reason.clone() } else { None },
                route: p.route.clone(),
                sessions: p.sessions,
                dose: p.dose.to_string(),
                cost: format!("{:.2} {}", p.cost_quote.minor as f64 / 100.0, p.cost_quote.currency),
                lines,
                links: crate::path_forms::plan_links(&viewer, p),
                needs_acknowledgement: p.status == PlanStatus::Blocked && p.evidence.status == EvidenceStatus::Unproven && p.warning_acknowledged_at.is_none(),
                questionnaires: crate::kit::questionnaires::staff_lines(p, viewer.can(celltrace_domain::access::Permission::RecordClinical)),
            }
        })
        .collect();
    let units = units.iter().map(|u| unit_item(u)).collect();
    render(PatientPage {
        layout: Some(Layout::new(&viewer, "patients")),
        id: person.id.to_string(),
        name: person.name.clone(),
        mrn: person.mrn.clone(),
        dob: person.date_of_birth.to_string(),
        sex: format!("{:?}", person.sex).to_lowercase(),
        kind: format!("{:?}", person.kind).to_lowercase(),
        language: format!("{:?}", person.language).to_lowercase(),
        plans: plan_views,
        units,
        timeline,
        can_audit: viewer.can(celltrace_domain::access::Permission::ViewAudit),
        can_record: viewer.can(celltrace_domain::access::Permission::RecordClinical),
        csrf: viewer.session.csrf_token.clone(),
    })
}

fn unit_item(u: &Unit) -> Item {
    Item {
        id: u.id.to_string(),
        label: format!("{} {}", u.din, u.product_code),
        detail: format!("{} · {}", u.product_type.code(), u.quantity),
        status: if u.in_transit.is_some() { "in transit".into() } else { u.status.label().to_owned() },
        site: u.site.to_string(),
    }
}

// ---------- units ----------

/// `?q=&status=&type=&after=&format=` of the units list.
#[derive(Debug, Default, Deserialize)]
struct UnitsQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: Option<UnitStatus>,
    #[serde(default, rename = "type")]
    product_type: Option<ProductType>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

fn unit_csv_row(u: &Unit) -> Vec<String> {
    vec![
        u.id.to_string(),
        u.din.clone(),
        u.product_code.clone(),
        u.product_type.code().to_owned(),
        u.status.label().to_owned(),
        u.quantity.to_string(),
        u.collected_at.date().to_string(),
        when(u.expires_at),
        u.parents.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
        u.location.as_ref().map(|l| format!("{} / {} / {} / {}", l.freezer, l.rack, l.r#box, l.position)).unwrap_or_default(),
    ]
}

async fn units(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Query(query): Query<UnitsQuery>) -> Response {
    let filter = celltrace_store::read::UnitFilter { status: query.status, product_type: query.product_type, text: query.q.clone() };
    if query.format.as_deref() == Some("csv") {
        let mut rows = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = match state.reader().units(&viewer.site.id, &filter, after.as_deref(), celltrace_store::read::MAX_PAGE).await {
                Ok(p) => p,
                Err(e) => return unavailable(e),
            };
            rows.extend(page.units.iter().map(unit_csv_row));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        return crate::kit::csv::download(
            &format!("units-{}.csv", viewer.site.id),
            &["unit_id", "din", "product_code", "product_type", "status", "quantity", "collected_on", "expires_at_utc", "parents", "location"],
            &rows,
        );
    }
    let page = match state.reader().units(&viewer.site.id, &filter, query.after.as_deref(), LIST_PAGE).await {
        Ok(p) => p,
        Err(e) => return unavailable(e),
    };
    let status_word = query.status.and_then(|s| serde_json::to_value(s).ok()).and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let type_word = query.product_type.map(|t| t.code().to_owned()).unwrap_or_default();
    let next = page.next.map(|after| format!("/units?q={}&status={status_word}&type={type_word}&after={}", url_encode(&query.q), url_encode(&after)));
    let units = page.units.iter().map(|u| Item { site: when(u.expires_at), ..unit_item(u) }).collect();
    render(UnitsPage {
        layout: Some(Layout::new(&viewer, "units")),
        site_name: viewer.site.name.clone(),
        units,
        q: query.q.clone(),
        status: status_word,
        product_type: type_word,
        next,
        first_page: query.after.is_none(),
    })
}

/// A unit's family: itself, every ancestor and descendant, and the other
/// products of its donation (its DIN), each once.
pub(crate) async fn unit_family(state: &AppState, unit: &Unit) -> Result<Vec<Unit>, celltrace_store::StoreError> {
    let lineage = state.reader().lineage_of(unit).await?;
    let mut family: BTreeMap<UnitId, Unit> = BTreeMap::new();
    for u in lineage.ancestors.into_iter().chain(lineage.descendants).chain(state.reader().units_by_din(&unit.din).await?) {
        family.insert(u.id.clone(), u);
    }
    family.insert(unit.id.clone(), unit.clone());
    Ok(family.into_values().collect())
}

async fn load_unit(state: &AppState, viewer: &auth::Viewer, id: &str) -> Result<Unit, Response> {
    let unit: Unit = match state.reader().get::<Unit>(id).await {
        Ok(Some(u)) => u,
        Ok(None) => return Err(not_found("This unit")),
        Err(e) => return Err(unavailable(e)),
    };
    // Records show at the site that holds them; staff of several sites switch site.
    if unit.site != viewer.site.id {
        return Err(not_found("This unit"));
    }
    Ok(unit)
}

/// The lineage of every unit sharing the DIN, drawn as layers from the
/// collection down, with the unit on show highlighted.
fn lineage_svg(units: &[Unit], current: &UnitId) -> String {
    let mut depth: BTreeMap<&UnitId, usize> = BTreeMap::new();
    let by_id: BTreeMap<&UnitId, &Unit> = units.iter().map(|u| (&u.id, u)).collect();
    fn depth_of<'a>(id: &'a UnitId, by_id: &BTreeMap<&'a UnitId, &'a Unit>, memo: &mut BTreeMap<&'a UnitId, usize>, guard: usize) -> usize {
        if let Some(d) = memo.get(id) {
            return *d;
        }
        let d = match by_id.get(id) {
            Some(u) if guard < 64 => u.parents.iter().map(|p| depth_of(p, by_id, memo, guard + 1) + 1).max().unwrap_or(0),
            _ => 0,
        };
        memo.insert(id, d);
        d
    }
    for u in units {
        depth_of(&u.id, &by_id, &mut depth, 0);
    }
    let mut layers: BTreeMap<usize, Vec<&Unit>> = BTreeMap::new();
    for u in units {
        layers.entry(depth.get(&u.id).copied().unwrap_or(0)).or_default().push(u);
    }
    let (w, h, gap_x, gap_y) = (170i64, 44i64, 20i64, 36i64);
    let mut pos: BTreeMap<&UnitId, (i64, i64)> = BTreeMap::new();
    let mut width = 0;
    for (layer, us) in &layers {
        for (i, u) in us.iter().enumerate() {
            let x = 10 + i as i64 * (w + gap_x);
            let y = 10 + *layer as i64 * (h + gap_y);
            pos.insert(&u.id, (x, y));
            width = width.max(x + w + 10);
        }
    }
    let height = 10 + layers.len() as i64 * (h + gap_y);
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut svg = format!(r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Lineage of the units of this donation" width="{width}" height="{height}" viewBox="0 0 {width} {height}" style="max-width:100%;height:auto;font:12px system-ui,sans-serif">"#);
    for u in units {
        for p in &u.parents {
            if let (Some((px, py)), Some((cx, cy))) = (pos.get(p), pos.get(&u.id)) {
                svg.push_str(&format!(r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#666" stroke-width="1.5"/>"##, px + w / 2, py + h, cx + w / 2, cy));
            }
        }
    }
    for u in units {
        if let Some((x, y)) = pos.get(&u.id) {
            let fill = if &u.id == current { "#fff4c2" } else { "#ffffff" };
            svg.push_str(&format!(
                r##"<a href="/units/{id}"><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="5" fill="{fill}" stroke="#0b5394"/><text x="{tx}" y="{ty1}">{code}</text><text x="{tx}" y="{ty2}" fill="#555">{status}</text></a>"##,
                id = esc(u.id.as_str()),
                tx = x + 8,
                ty1 = y + 18,
                ty2 = y + 35,
                code = esc(&u.product_code),
                status = esc(u.status.label()),
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

async fn unit(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Response {
    let unit = match load_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = record_label_view(&state, &viewer, &unit, "unit page").await {
        return r;
    }
    let family = match unit_family(&state, &unit).await {
        Ok(f) => f,
        Err(e) => return unavailable(e),
    };
    let catalogue: Option<ProductCatalogue> = match state.reader().product_catalogue().await {
        Ok(c) => c,
        Err(e) => return unavailable(e),
    };
    let description = catalogue.as_ref().and_then(|c| c.describe(&unit.product_code)).unwrap_or("(no description loaded)").to_owned();
    let shipments: Vec<Shipment> = match state.reader().shipments_of(&unit.id).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let custody = shipments
        .iter()
        .map(|s| {
            let received = match (&s.received, s.condition_ok) {
                (Some(r), Some(ok)) => format!("received by {} on {} ({})", r.signer, when(r.signed_at), if ok { "container intact" } else { "CONTAINER DAMAGED" }),
                _ => "in transit".to_owned(),
            };
            let excursions = if s.excursions.is_empty() { "no temperature excursion".to_owned() } else { format!("TEMPERATURE EXCURSIONS: {}", s.excursions.join("; ")) };
            format!("{} → {} by {}: dispatched by {} on {}; {}; {}", s.from_site, s.to_site, s.courier, s.dispatched.signer, when(s.dispatched.signed_at), received, excursions)
        })
        .collect();
    render(UnitPage {
        layout: Some(Layout::new(&viewer, "units")),
        id: unit.id.to_string(),
        din: unit.din.clone(),
        product_code: unit.product_code.clone(),
        description,
        status: if unit.in_transit.is_some() { "in transit".into() } else { unit.status.label().to_owned() },
        quantity: unit.quantity.to_string(),
        site: unit.site.to_string(),
        expires: when(unit.expires_at),
        intended: match &unit.intended_use {
            IntendedUse::Autologous { patient } => format!("autologous: only for {patient}"),
            IntendedUse::Allogeneic => match &unit.allocated_to {
                Some(plan) => format!("allogeneic, allocated to plan {plan}"),
                None => "allogeneic, not allocated".into(),
            },
        },
        lineage_svg: lineage_svg(&family, &unit.id),
        qc: unit.qc.iter().map(|q| (q.test.clone(), q.value.clone(), q.specification.clone(), if q.in_spec { "yes" } else { "NO" })).collect(),
        release: unit.release.iter().map(|s| format!("{} signed \"{}\" on {}", s.signer, s.meaning.statement(), when(s.signed_at))).collect(),
        steps: unit.steps.iter().map(|s| format!("{} {:?} by {} with {} (lots: {})", when(s.at), s.kind, s.operator, s.equipment, s.reagent_lots.join(", "))).collect(),
        custody,
        can_audit: viewer.can(celltrace_domain::access::Permission::ViewAudit),
        actions: unit_actions(&viewer, &unit),
    })
}

fn unit_actions(viewer: &auth::Viewer, unit: &Unit) -> Vec<(String, &'static str)> {
    use celltrace_domain::access::Permission;
    let mut actions = crate::path_forms::unit_links(viewer, unit);
    if unit.status == UnitStatus::Quarantine && unit.in_transit.is_none() {
        if viewer.can(Permission::RecordLab) {
            actions.push((format!("/units/{}/qc", unit.id), "Record a QC result"));
        }
        if viewer.can(Permission::Release) && !unit.qc.is_empty() {
            let latest = unit.latest_qc();
            if latest.iter().all(|q| q.in_spec && !q.pending) {
                actions.push((format!("/units/{}/release", unit.id), "Release with e-signature"));
            } else if latest.iter().any(|q| q.pending) {
                actions.push((format!("/units/{}/exceptional-release", unit.id), "Exceptional release (results pending)"));
            } else {
                actions.push((format!("/units/{}/exceptional-release", unit.id), "Exceptional release (out of specification)"));
            }
        }
    }
    actions
}

/// An autologous unit's page and label show its patient's name, date of birth
/// and MRN: that is a read of the patient's record.
async fn record_label_view(state: &AppState, viewer: &auth::Viewer, unit: &Unit, view: &str) -> Result<(), Response> {
    match &unit.intended_use {
        IntendedUse::Autologous { patient } => record_view_via(state, viewer, patient, &format!("{view} of unit {}", unit.id), Some(&unit.id)).await,
        IntendedUse::Allogeneic => Ok(()),
    }
}

async fn label_data(state: &AppState, unit: &Unit) -> Result<celltrace_labels::LabelData, Response> {
    crate::unit_label(state.db(), unit).await.map_err(|e| auth::refusal(StatusCode::UNPROCESSABLE_ENTITY, &e))
}

async fn label_png(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Response {
    let unit = match load_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = record_label_view(&state, &viewer, &unit, "label image").await {
        return r;
    }
    let data = match label_data(&state, &unit).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    match celltrace_labels::render_png(&data, 203) {
        Ok(png) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        Err(e) => auth::refusal(StatusCode::UNPROCESSABLE_ENTITY, &format!("The label cannot be drawn: {e}")),
    }
}

async fn label_pdf(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Response {
    let unit = match load_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = record_label_view(&state, &viewer, &unit, "label PDF").await {
        return r;
    }
    let data = match label_data(&state, &unit).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    match celltrace_labels::render_pdf(&data) {
        Ok(pdf) => ([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response(),
        Err(e) => auth::refusal(StatusCode::UNPROCESSABLE_ENTITY, &format!("The label cannot be drawn: {e}")),
    }
}

// ---------- audit and ledger ----------

async fn audit(State(state): State<AppState>, Can { viewer, .. }: Can<ViewAudit>, Path((kind, id)): Path<(String, String)>, Query(query): Query<crate::kit::csv::ListQuery>) -> Response {
    let Some(kind) = EntityKind::parse(&kind) else { return not_found("This kind of record") };
    let key = EntityKey::new(kind, &id);
    match state.reader().entity(&key).await {
        Ok(Some(row)) if row.site == viewer.site.id.as_str() || row.site == "all" => {}
        Ok(_) => return not_found("This record"),
        Err(e) => return unavailable(e),
    }
    let trail = match state.reader().trail(&key).await {
        Ok(t) => t,
        Err(e) => return unavailable(e),
    };
    if query.wants_csv() {
        // For inspectors: each entry with its full hash, to check against `celltrace verify`.
        let rows: Vec<Vec<String>> = trail
            .iter()
            .map(|(e, command)| {
                vec![
                    e.seq.to_string(),
                    when(Timestamp(e.record.recorded_at)),
                    e.record.actor.clone(),
                    e.record.site.clone(),
                    e.record.kind.clone(),
                    describe_event(&e.record.payload),
                    command.clone(),
                    celltrace_ledger::to_hex(&e.hash),
                    String::from_utf8_lossy(&e.record.payload).into_owned(),
                ]
            })
            .collect();
        let name = format!("audit-{}-{}.csv", key.kind.as_str(), key.id);
        return crate::kit::csv::download(&name, &["entry", "recorded_at_utc", "actor", "site", "kind", "what", "command", "hash", "payload"], &rows);
    }
    let entries = trail
        .into_iter()
        .map(|(e, _)| AuditRow {
            seq: e.seq,
            when: when(Timestamp(e.record.recorded_at)),
            who: e.record.actor.clone(),
            site: e.record.site.clone(),
            what: describe_event(&e.record.payload),
            payload: serde_json::from_slice::<serde_json::Value>(&e.record.payload)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_default(),
            hash: celltrace_ledger::to_hex(&e.hash).chars().take(16).collect(),
        })
        .collect();
    render(AuditPage { layout: Some(Layout::new(&viewer, "ledger")), subject: key.to_string(), entries })
}

async fn ledger_page(state: &AppState, viewer: &auth::Viewer, report: Option<(bool, String)>, findings: Vec<String>) -> Response {
    let db = state.db();
    let (head, checkpoints) = match (db.reader().head().await, db.reader().checkpoint_count().await) {
        (Ok(h), Ok(c)) => (h, c),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
    };
    let from = head.seq.saturating_sub(24).max(1);
    let latest = match db.reader().entries(from, 25).await {
        Ok(e) => e
            .into_iter()
            .rev()
            .map(|(e, _)| TimelineRow { seq: e.seq, when: when(Timestamp(e.record.recorded_at)), what: describe_event(&e.record.payload), who: e.record.actor })
            .collect(),
        Err(e) => return unavailable(e),
    };
    render(LedgerPage {
        layout: Some(Layout::new(viewer, "ledger")),
        csrf: viewer.session.csrf_token.clone(),
        entries: head.seq,
        checkpoints,
        head: celltrace_ledger::to_hex(&head.hash),
        report,
        findings,
        latest,
    })
}

async fn ledger(State(state): State<AppState>, Can { viewer, .. }: Can<ViewAudit>) -> Response {
    ledger_page(&state, &viewer, None, Vec::new()).await
}

async fn ledger_verify(State(state): State<AppState>, Can { viewer, .. }: Can<ViewAudit>, Form(form): Form<CsrfForm>) -> Response {
    if let Err(r) = viewer.check_csrf(&form.csrf) {
        return r;
    }
    let Some(key) = state.config.verifying_key.as_ref() else {
        return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, "This server was started without the deployment's key; run celltrace verify instead.");
    };
    match celltrace_store::verify::verify(state.db(), key).await {
        Ok(report) => {
            let summary = format!(
                "{}: {} entries, {} checkpoints and {} records checked",
                if report.ok() { "Verified" } else { "FAILED" },
                report.entries,
                report.checkpoints,
                report.entities
            );
            ledger_page(&state, &viewer, Some((report.ok(), summary)), report.findings).await
        }
        Err(e) => unavailable(e),
    }
}

// ---------- bedside ----------

fn bedside_page(viewer: &auth::Viewer, scan: &ScanForm, plans: Vec<(String, String)>, verdict: Option<Verdict>, confirm: Option<Confirm>, recorded: Option<String>) -> Response {
    render(BedsidePage {
        layout: Some(Layout::new(viewer, "bedside")),
        csrf: viewer.session.csrf_token.clone(),
        wristband: scan.wristband.clone(),
        unit_scan: scan.unit_scan.clone(),
        verdict,
        confirm,
        recorded,
        witness_statement: SignatureMeaning::AdministrationWitness.statement(),
        plans,
        plan: scan.plan.clone(),
    })
}

async fn bedside_form(Can { viewer, .. }: Can<Administer>) -> Response {
    bedside_page(&viewer, &ScanForm::default(), Vec::new(), None, None, None)
}

#[derive(Deserialize, Default)]
struct ScanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    wristband: String,
    #[serde(default)]
    unit_scan: String,
    /// The plan the nurse names: never guessed when the patient has several.
    #[serde(default)]
    plan: String,
}

fn stop(message: String) -> Verdict {
    Verdict { passed: false, failures: vec![message], checks: Vec::new() }
}

fn plan_label(plan: &Plan) -> String {
    format!("{} — {} ({}, {})", plan.indication.name, plan.product_type.code(), plan.route, format!("{:?}", plan.status).to_lowercase())
}

/// Scans the wristband and the unit, lets the nurse name the plan, and shows
/// every check the rules will make, computed by the rules themselves.
async fn bedside_check(State(state): State<AppState>, Can { viewer, .. }: Can<Administer>, Form(form): Form<ScanForm>) -> Response {
    if let Err(r) = viewer.check_csrf(&form.csrf) {
        return r;
    }
    let db = state.db();
    let site = viewer.site.id.as_str();
    let page = |plans: Vec<(String, String)>, verdict: Verdict, confirm: Option<Confirm>| bedside_page(&viewer, &form, plans, Some(verdict), confirm, None);
    let person = match db.reader().resolve_scan(site, &form.wristband).await {
        Ok(Resolution::Patient(p)) => p,
        Ok(Resolution::Unit(_)) => return page(Vec::new(), stop("The first scan is a unit label: scan the patient's wristband first.".into()), None),
        Err(e) => return page(Vec::new(), stop(format!("Wristband: {e}")), None),
    };
    let unit = match db.reader().resolve_scan(site, &form.unit_scan).await {
        Ok(Resolution::Unit(u)) => *u,
        Ok(Resolution::Patient(_)) => return page(Vec::new(), stop("The second scan is a wristband: scan the unit's label.".into()), None),
        Err(e) => return page(Vec::new(), stop(format!("Unit label: {e}")), None),
    };
    if let Err(r) = record_view(&state, &viewer, &person.id, "bedside verification").await {
        return r;
    }
    let plans: Vec<Plan> = match db.reader().plans_of(&person.id).await {
        Ok(plans) => plans.into_iter().filter(|p| p.site == viewer.site.id).collect(),
        Err(e) => return unavailable(e),
    };
    let choices: Vec<(String, String)> = plans.iter().map(|p| (p.id.to_string(), plan_label(p))).collect();
    let chosen = if form.plan.is_empty() {
        match plans.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    } else {
        plans.iter().find(|p| p.id.as_str() == form.plan)
    };
    let Some(plan) = chosen else {
        let message = if plans.is_empty() {
            format!("{} has no treatment plan at this site: do not administer.", person.name)
        } else {
            format!("{} has {} plans at this site: choose the plan this unit is given for, then check again.", person.name, plans.len())
        };
        return page(choices, stop(message), None);
    };
    let now = Timestamp(now_micros());
    let (Ok(id), Ok(administration)) = (new_command_id(), AdministrationId::parse(&format!("adm-{}", uuid::Uuid::now_v7().simple()))) else {
        return unavailable("cannot make an identifier");
    };
    let preview = Submission {
        id,
        actor: Actor::Staff(viewer.staff.id.clone()),
        site: viewer.site.id.clone(),
        at: now,
        command: Command::AdministerUnit {
            administration,
            unit: unit.id.clone(),
            patient: person.id.clone(),
            plan: plan.id.clone(),
            dose: plan.dose.clone(),
            body_site: String::new(),
            witness: SignatureRequest::own(viewer.staff.id.clone(), SignatureMeaning::AdministrationWitness),
        },
    };
    let decision_state = match state.engine.state_for(&preview).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let checks: Vec<(String, bool, String)> = bedside_checks(&decision_state, &viewer.site.id, &unit, &person.id, plan, &plan.dose, now)
        .into_iter()
        .map(|c| (c.title, c.passed, c.message))
        .collect();
    let passed = checks.iter().all(|c| c.1);
    let failures = checks.iter().filter(|c| !c.1).map(|c| c.2.clone()).collect();
    let confirm = passed.then(|| Confirm {
        patient: person.id.to_string(),
        patient_name: person.name.clone(),
        plan: plan.id.to_string(),
        plan_label: plan_label(plan),
        unit: unit.id.to_string(),
        unit_label: format!("{} {}", unit.din, unit.product_code),
        dose: plan.dose.to_string(),
        route: plan.route.clone(),
    });
    page(choices, Verdict { passed, failures, checks }, confirm)
}

#[derive(Deserialize)]
struct AdministerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    patient: String,
    #[serde(default)]
    body_site: String,
    #[serde(default)]
    witness: String,
    #[serde(default)]
    witness_password: String,
}

async fn bedside_administer(State(state): State<AppState>, Can { viewer, .. }: Can<Administer>, Form(form): Form<AdministerForm>) -> Response {
    if let Err(r) = viewer.check_csrf(&form.csrf) {
        return r;
    }
    let retry = |message: String| bedside_page(&viewer, &ScanForm::default(), Vec::new(), Some(stop(message)), None, None);
    let witness = match crate::kit::forms::cosigner(&state, &viewer, &form.witness, &form.witness_password, SignatureMeaning::AdministrationWitness).await {
        Ok(w) => w,
        Err(message) => return retry(message),
    };
    let plan: Plan = match state.reader().get::<Plan>(&form.plan).await {
        Ok(Some(p)) => p,
        Ok(None) => return retry("The plan is unknown; scan again.".into()),
        Err(e) => return unavailable(e),
    };
    let (Ok(unit), Ok(patient), Ok(administration)) = (form.unit.parse(), form.patient.parse(), AdministrationId::parse(&format!("adm-{}", uuid::Uuid::now_v7().simple()))) else {
        return retry("The form was damaged; scan again.".into());
    };
    // Every bedside check runs again in the rules, with the evidence data in force.
    let command = Command::AdministerUnit {
        administration,
        unit,
        patient,
        plan: plan.id.clone(),
        dose: plan.dose.clone(),
        body_site: form.body_site.clone(),
        witness: SignatureRequest::own(witness.signer.clone(), SignatureMeaning::AdministrationWitness),
    };
    match crate::kit::forms::submit_cosigned(&state, &viewer, command, &[witness]).await {
        Ok(()) => bedside_page(&viewer, &ScanForm::default(), Vec::new(), None, None, Some(format!("Administration recorded for {} at {} UTC.", plan_label(&plan), when(Timestamp(now_micros()))))),
        Err(Ok(message)) => retry(message),
        Err(Err(r)) => r,
    }
}

