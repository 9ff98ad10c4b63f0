//! The one table of routes: each feature module lists its routes with what
//! they require, [`router`] builds the application from this table only,
//! and the route × role tests walk the same table, so a route cannot exist
//! without being tested for who may reach it.

use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::MethodRouter;
use axum::Router;
use celltrace_domain::access::Permission;

/// Who may reach a route. The handler's extractors enforce it; the table
/// says it, for the tests that check both agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (sign-in pages, health, public status, static files).
    Public,
    /// Any signed-in member of staff, whatever their roles.
    SignedIn,
    /// Staff with this permission at their current site (`auth::Can`).
    Staff(Permission),
    /// A patient signed in to the portal.
    Patient,
    /// A program with an API token (bearer); the rules check what its owner may do.
    Token,
}

/// One route: method, path, who may reach it, and its handler.
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path, with `{name}` for parameters.
    pub path: &'static str,
    /// Who may reach it.
    pub access: Access,
    handler: MethodRouter<AppState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route").field("method", &self.method).field("path", &self.path).field("access", &self.access).finish_non_exhaustive()
    }
}

impl Route {
    /// A `GET` route.
    pub fn get<H, T>(path: &'static str, access: Access, handler: H) -> Route
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        Route { method: Method::GET, path, access, handler: axum::routing::get(handler) }
    }

    /// A `POST` route.
    pub fn post<H, T>(path: &'static str, access: Access, handler: H) -> Route
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        Route { method: Method::POST, path, access, handler: axum::routing::post(handler) }
    }

    /// Accepts bodies up to `bytes` (uploads) instead of the default limit.
    pub fn body_limit(mut self, bytes: usize) -> Route {
        self.handler = self.handler.layer(DefaultBodyLimit::max(bytes));
        self
    }
}

/// Every route of celltrace.
pub fn table() -> Vec<Route> {
    [
        crate::assets::routes(),
        crate::api::routes(),
        crate::fhir::routes(),
        crate::staff::signin::routes(),
        crate::staff::dashboard::routes(),
        crate::staff::patients::routes(),
        crate::staff::units::routes(),
        crate::staff::labels::routes(),
        crate::staff::batch::routes(),
        crate::staff::audit::routes(),
        crate::staff::ledger::routes(),
        crate::staff::bedside::routes(),
        crate::staff::adverse_events::routes(),
        crate::staff::forms::routes(),
        crate::staff::accounts::routes(),
        crate::staff::evidence::routes(),
        crate::staff::lookback::routes(),
        crate::staff::registry::routes(),
        crate::portal::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The application's routes, from [`table`]. Routes of one path with
/// different methods share it; the same method twice on a path is a bug
/// axum refuses at start.
pub fn router() -> Router<AppState> {
    table().into_iter().fold(Router::new(), |router, route| router.route(route.path, route.handler))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_listed_once_and_builds() {
        let routes = table();
        let mut seen = std::collections::BTreeSet::new();
        for r in &routes {
            assert!(seen.insert((r.method.to_string(), r.path)), "{} {} is listed twice", r.method, r.path);
            assert!(r.path.starts_with('/'), "{}", r.path);
        }
        let _ = router();
    }
}
