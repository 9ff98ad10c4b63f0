//! The work queues of the viewer's site (units awaiting QC or release,
//! shipments in transit, plans ready for administration, follow-ups due,
//! adverse events, plans blocked by the evidence guard) and each queue in
//! full, a page at a time. A queue on the dashboard shows its first rows
//! and, when there are more, links to the whole list: nothing is cut
//! silently.

use crate::auth::{Can, ViewDashboard, Viewer};
use crate::error::AppError;
use crate::kit::layout::{when, Layout};
use crate::kit::records::render;
use crate::routes::{Access, Route};
use crate::staff::patients::url_encode;
use crate::{now_micros, AppState};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::ids::SiteId;
use celltrace_domain::index::{scoped, Index};
use celltrace_domain::model::{AdverseEvent, Person, Plan, ProductType, Shipment, Unit};
use celltrace_domain::time::{Date, Timestamp};
use celltrace_domain::{Reference, TimePointWindow};
use celltrace_outcomes::schedule::VisitState;
use celltrace_store::read::{Cursor, Page};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The dashboard and its queues in full.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/", Access::Staff(Permission::ViewDashboard), dashboard),
        Route::get("/queues", Access::Staff(Permission::ViewDashboard), queue_page),
    ]
}

/// How many rows a dashboard queue shows before it links to the whole list.
const QUEUE: u32 = 25;
/// Rows of a page of a whole queue.
const QUEUE_PAGE: u32 = 100;

/// One row of a queue: where it leads (if anywhere), what it is, and a detail.
pub struct Row {
    pub href: Option<String>,
    pub label: String,
    pub detail: String,
}

/// A queue as the dashboard shows it.
pub struct Queue {
    pub id: &'static str,
    pub title: &'static str,
    pub rows: Vec<Row>,
    /// The whole list, when there are rows beyond those shown.
    pub more: Option<String>,
}

impl Queue {
    /// The count in the heading: `25+` when the list goes on.
    pub fn count(&self) -> String {
        if self.more.is_some() { format!("{}+", self.rows.len()) } else { self.rows.len().to_string() }
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Option<Layout>,
    site_name: String,
    /// Serious adverse events awaiting review: the alarm above the queues.
    serious: Queue,
    queues: Vec<Queue>,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    layout: Option<Layout>,
    title: &'static str,
    site_name: String,
    rows: Vec<Row>,
    next: Option<String>,
    first_page: bool,
    name: &'static str,
}

/// The queues that have a page of their own (units awaiting QC or release
/// have the units list; follow-ups due are never cut).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum QueueName {
    Incoming,
    Outgoing,
    Ready,
    Blocked,
    Adverse,
    Serious,
}

impl QueueName {
    fn word(self) -> &'static str {
        match self {
            QueueName::Incoming => "incoming",
            QueueName::Outgoing => "outgoing",
            QueueName::Ready => "ready",
            QueueName::Blocked => "blocked",
            QueueName::Adverse => "adverse",
            QueueName::Serious => "serious",
        }
    }

    fn title(self) -> &'static str {
        match self {
            QueueName::Incoming => "Shipments on their way here",
            QueueName::Outgoing => "Shipments sent from here, in transit",
            QueueName::Ready => "Plans ready for administration",
            QueueName::Blocked => "Plans blocked by the evidence guard",
            QueueName::Adverse => "Open adverse events",
            QueueName::Serious => "Serious adverse events awaiting the medical director's review",
        }
    }

    fn link(self) -> String {
        format!("/queues?name={}", self.word())
    }
}

/// What the rows of a queue need besides their records: the patients'
/// names (only for staff who may see patient records) and the time.
struct Context {
    names: BTreeMap<String, String>,
    now: Timestamp,
}

impl Context {
    /// Reads the names of the patients of `patients`, when the viewer may see them.
    async fn load(state: &AppState, viewer: &Viewer, mut patients: Vec<String>) -> Result<Context, AppError> {
        let now = Timestamp(now_micros());
        if !viewer.can(Permission::ViewPatients) {
            return Ok(Context { names: BTreeMap::new(), now });
        }
        patients.sort();
        patients.dedup();
        let names = state.reader().get_many::<Person>(&patients).await?.into_iter().map(|p| (p.id.to_string(), p.name)).collect();
        Ok(Context { names, now })
    }

    fn name(&self, patient: &str) -> String {
        self.names.get(patient).cloned().unwrap_or_else(|| format!("patient {patient}"))
    }

    fn unit(&self, u: &Unit) -> Row {
        Row { href: Some(format!("/units/{}", u.id)), label: format!("{} {}", u.din, u.product_code), detail: format!("{} QC result(s), expires {}", u.qc.len(), when(u.expires_at)) }
    }

    fn shipment(&self, s: &Shipment, incoming: bool) -> Row {
        let detail = format!("{} unit(s) by {}", s.units.len(), s.courier);
        if incoming {
            Row { href: Some(format!("/shipments/{}/receive", s.id)), label: format!("{} → {}: receive {}", s.from_site, s.to_site, s.id), detail }
        } else {
            Row { href: None, label: format!("{} → {} ({})", s.from_site, s.to_site, s.id), detail }
        }
    }

    /// A plan with a current consent and a valid eligibility assessment can be given.
    fn ready(&self, p: &Plan) -> bool {
        p.current_consent().is_some() && p.current_eligibility().is_some_and(|e| e.eligible() && self.now <= e.valid_until)
    }

    fn ready_plan(&self, p: &Plan) -> Row {
        Row { href: Some(format!("/patients/{}", p.patient)), label: self.name(p.patient.as_str()), detail: format!("plan {} · {} · {}", p.id, p.product_type.code(), p.indication.name) }
    }

    fn blocked_plan(&self, p: &Plan) -> Row {
        Row { href: Some(format!("/patients/{}", p.patient)), label: self.name(p.patient.as_str()), detail: format!("plan {} · {} for {}", p.id, p.product_type.code(), p.indication.name) }
    }

    fn adverse(&self, a: &AdverseEvent) -> Row {
        Row {
            href: Some(format!("/adverse-events/{}", a.id)),
            label: self.name(a.patient.as_str()),
            detail: format!("{} grade {}{}", a.term, a.grade, if a.is_serious() { " · SERIOUS" } else { "" }),
        }
    }

    fn serious(&self, a: &AdverseEvent) -> Row {
        Row { href: Some(format!("/adverse-events/{}", a.id)), label: self.name(a.patient.as_str()), detail: format!("{} grade {}, onset {}", a.term, a.grade, a.onset) }
    }

    /// The follow-up questionnaires of a plan that are due or overdue now.
    fn follow_ups(&self, p: &Plan) -> Result<Vec<Row>, AppError> {
        if p.current_consent().is_none() {
            return Ok(Vec::new());
        }
        let statuses = crate::kit::questionnaires::plan_status(p, self.now).map_err(AppError::internal)?;
        Ok(statuses
            .iter()
            .filter(|s| matches!(s.state, VisitState::Due | VisitState::Overdue))
            .map(|s| {
                let when = match (s.state, s.closes) {
                    (VisitState::Overdue, Some(d)) => format!("overdue, window closes {}", Date::from_days_since_epoch(d)),
                    (_, Some(d)) => format!("due until {}", Date::from_days_since_epoch(d)),
                    (_, None) => "due before the first administration".to_owned(),
                };
                Row { href: Some(format!("/patients/{}", p.patient)), label: self.name(p.patient.as_str()), detail: format!("{} {} {when}", s.time_point, s.instrument) }
            })
            .collect())
    }
}

/// The plans of `site` whose follow-up window of some time point is open
/// today: for each product type and time point, the plans treated on the
/// days that put today inside the window (one index range each). The whole
/// answer: a follow-up due is never left off.
async fn follow_ups_due(state: &AppState, site: &SiteId, today: i64) -> Result<Vec<Plan>, AppError> {
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

/// The index and key a queue's records are filed under at `site`.
fn filed_under(name: QueueName, site: &SiteId) -> (Index, String) {
    match name {
        QueueName::Incoming => (Index::ShipmentsTo, scoped(site, "in_transit")),
        QueueName::Outgoing => (Index::ShipmentsFrom, scoped(site, "in_transit")),
        QueueName::Ready => (Index::SitePlans, scoped(site, "awaiting")),
        QueueName::Blocked => (Index::SitePlans, scoped(site, "blocked")),
        QueueName::Adverse => (Index::SiteAdverseEvents, scoped(site, "open")),
        QueueName::Serious => (Index::SiteAdverseEvents, scoped(site, "serious")),
    }
}

/// One page of a queue's records.
async fn records<T: celltrace_domain::Projection>(state: &AppState, name: QueueName, site: &SiteId, after: Option<&Cursor>, limit: u32) -> Result<Page<T>, AppError> {
    let (index, value) = filed_under(name, site);
    Ok(state.reader().page::<T>(index, &value, after, limit).await?)
}

fn more<T>(page: &Page<T>, link: String) -> Option<String> {
    page.next.as_ref().map(|_| link)
}

async fn dashboard(State(state): State<AppState>, Can { viewer, .. }: Can<ViewDashboard>) -> Result<Response, AppError> {
    let site = &viewer.site.id;
    let quarantine = state.reader().page::<Unit>(Index::SiteUnitsByStatus, &scoped(site, "quarantine"), None, QUEUE).await?;
    let incoming = records::<Shipment>(&state, QueueName::Incoming, site, None, QUEUE).await?;
    let outgoing = records::<Shipment>(&state, QueueName::Outgoing, site, None, QUEUE).await?;
    let awaiting = records::<Plan>(&state, QueueName::Ready, site, None, QUEUE).await?;
    let blocked = records::<Plan>(&state, QueueName::Blocked, site, None, QUEUE).await?;
    let adverse = records::<AdverseEvent>(&state, QueueName::Adverse, site, None, QUEUE).await?;
    let serious = records::<AdverseEvent>(&state, QueueName::Serious, site, None, QUEUE).await?;
    let due = follow_ups_due(&state, site, Timestamp(now_micros()).0.div_euclid(Timestamp::DAY)).await?;

    let mut patients: Vec<String> = awaiting.items.iter().chain(&blocked.items).chain(&due).map(|p| p.patient.to_string()).collect();
    patients.extend(adverse.items.iter().chain(&serious.items).map(|a| a.patient.to_string()));
    let cx = Context::load(&state, &viewer, patients).await?;

    let mut follow_ups = Vec::new();
    for plan in &due {
        follow_ups.extend(cx.follow_ups(plan)?);
    }
    let transit_more = match (&incoming.next, &outgoing.next) {
        (Some(_), _) => Some(QueueName::Incoming.link()),
        (None, Some(_)) => Some(QueueName::Outgoing.link()),
        (None, None) => None,
    };
    let queues = vec![
        Queue { id: "release", title: "Units awaiting QC or release", rows: quarantine.items.iter().map(|u| cx.unit(u)).collect(), more: more(&quarantine, "/units?status=quarantine".into()) },
        Queue {
            id: "transit",
            title: "Shipments in transit",
            rows: incoming.items.iter().map(|s| cx.shipment(s, true)).chain(outgoing.items.iter().map(|s| cx.shipment(s, false))).collect(),
            more: transit_more,
        },
        Queue { id: "admin", title: "Plans ready for administration", rows: awaiting.items.iter().filter(|p| cx.ready(p)).map(|p| cx.ready_plan(p)).collect(), more: more(&awaiting, QueueName::Ready.link()) },
        Queue { id: "follow", title: "Follow-ups due or overdue", rows: follow_ups, more: None },
        Queue { id: "ae", title: "Open adverse events", rows: adverse.items.iter().map(|a| cx.adverse(a)).collect(), more: more(&adverse, QueueName::Adverse.link()) },
        Queue { id: "blocked", title: "Plans blocked by the evidence guard", rows: blocked.items.iter().map(|p| cx.blocked_plan(p)).collect(), more: more(&blocked, QueueName::Blocked.link()) },
    ];
    let serious = Queue {
        id: "serious",
        title: "Serious adverse events awaiting the medical director's review",
        rows: serious.items.iter().map(|a| cx.serious(a)).collect(),
        more: more(&serious, QueueName::Serious.link()),
    };
    render(&DashboardPage { layout: Some(Layout::new(&viewer, "dashboard")), site_name: viewer.site.name.clone(), serious, queues })
}

/// `?name=&after=` of a whole queue.
#[derive(Debug, Deserialize)]
struct QueueQuery {
    name: Option<QueueName>,
    #[serde(default)]
    after: Option<String>,
}

/// One queue in full, a page at a time.
async fn queue_page(State(state): State<AppState>, Can { viewer, .. }: Can<ViewDashboard>, Query(query): Query<QueueQuery>) -> Result<Response, AppError> {
    let name = query.name.ok_or_else(|| AppError::not_found("This work queue"))?;
    let after = match query.after.as_deref() {
        Some(text) => Some(Cursor::decode(text).ok_or_else(|| AppError::bad_request("The page link is damaged; start again from the dashboard."))?),
        None => None,
    };
    let site = &viewer.site.id;
    let (rows, next) = match name {
        QueueName::Incoming | QueueName::Outgoing => {
            let page = records::<Shipment>(&state, name, site, after.as_ref(), QUEUE_PAGE).await?;
            let cx = Context::load(&state, &viewer, Vec::new()).await?;
            (page.items.iter().map(|s| cx.shipment(s, name == QueueName::Incoming)).collect::<Vec<_>>(), page.next)
        }
        QueueName::Ready | QueueName::Blocked => {
            let page = records::<Plan>(&state, name, site, after.as_ref(), QUEUE_PAGE).await?;
            let cx = Context::load(&state, &viewer, page.items.iter().map(|p| p.patient.to_string()).collect()).await?;
            let rows = if name == QueueName::Ready {
                page.items.iter().filter(|p| cx.ready(p)).map(|p| cx.ready_plan(p)).collect()
            } else {
                page.items.iter().map(|p| cx.blocked_plan(p)).collect()
            };
            (rows, page.next)
        }
        QueueName::Adverse | QueueName::Serious => {
            let page = records::<AdverseEvent>(&state, name, site, after.as_ref(), QUEUE_PAGE).await?;
            let cx = Context::load(&state, &viewer, page.items.iter().map(|a| a.patient.to_string()).collect()).await?;
            (page.items.iter().map(|a| if name == QueueName::Serious { cx.serious(a) } else { cx.adverse(a) }).collect(), page.next)
        }
    };
    render(&QueuePage {
        layout: Some(Layout::new(&viewer, "dashboard")),
        title: name.title(),
        site_name: viewer.site.name.clone(),
        rows,
        next: next.map(|c| format!("{}&after={}", name.link(), url_encode(&c.encode()))),
        first_page: after.is_none(),
        name: name.word(),
    })
}
