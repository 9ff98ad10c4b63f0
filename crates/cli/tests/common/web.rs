//! An in-process client of the web application for tests: keeps cookies,
//! checks the security headers of every page it receives, and signs in.
//! Also the demo and bedside fixtures the web tests start from.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use celltrace_domain::command::Command;
use celltrace_store::{Database, Engine};
use celltrace_testkit::{clinic, now, released_unit, submission, TestDb};
use http_body_util::BodyExt;
use std::collections::BTreeMap;
use tower::ServiceExt;

pub struct Client {
    app: Router,
    cookies: BTreeMap<String, String>,
    /// The address requests come from (unset: the unspecified address the
    /// in-process router gives every request).
    address: Option<std::net::SocketAddr>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: String,
    pub www_authenticate: String,
    pub body: String,
}

impl Client {
    pub fn new(app: &Router) -> Client {
        Client { app: app.clone(), cookies: BTreeMap::new(), address: None }
    }

    /// A client whose requests come from `ip`, as a server connection would
    /// tell the application (`ConnectInfo`).
    pub fn from_address(app: &Router, ip: std::net::IpAddr) -> Client {
        Client { address: Some(std::net::SocketAddr::new(ip, 50_000)), ..Client::new(app) }
    }

    pub async fn send(&mut self, mut request: Request<Body>) -> Page {
        if let Some(address) = self.address {
            request.extensions_mut().insert(axum::extract::ConnectInfo(address));
        }
        let response = self.app.clone().oneshot(request).await.expect("response");
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().expect("ascii cookie");
            assert!(text.contains("HttpOnly") && text.contains("SameSite=Strict"), "cookie attributes: {text}");
            if let Some((name, rest)) = text.split_once('=') {
                let v = rest.split(';').next().unwrap_or("").to_owned();
                if v.is_empty() {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), v);
                }
            }
        }
        let status = response.status();
        let header_text = |name: header::HeaderName| response.headers().get(name).map(|v| v.to_str().unwrap_or("").to_owned()).unwrap_or_default();
        let location = header_text(header::LOCATION);
        let www_authenticate = header_text(header::WWW_AUTHENTICATE);
        // Every page carries the security headers, whatever it is and whoever asks.
        if header_text(header::CONTENT_TYPE).starts_with("text/html") {
            let csp = header_text(header::CONTENT_SECURITY_POLICY);
            assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "CSP: {csp}");
            assert_eq!(header_text(header::X_FRAME_OPTIONS), "DENY");
            assert_eq!(header_text(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
            assert_eq!(header_text(header::REFERRER_POLICY), "no-referrer");
            assert_eq!(header_text(header::CACHE_CONTROL), "no-store");
        }
        if status == StatusCode::UNAUTHORIZED {
            assert!(www_authenticate.starts_with("Bearer"), "a 401 says how to authenticate");
        }
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        Page { status, location, www_authenticate, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = Request::get(path).header(header::COOKIE, self.cookie_header()).body(Body::empty()).expect("request");
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = fields.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&");
        let request = Request::post(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.send(request).await
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        let csrf = csrf_of(&form.body);
        self.post("/login", &[("csrf", &csrf), ("username", username), ("password", password)]).await
    }

    /// The CSRF token of the signed-in session, read from a page's forms.
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/").await;
        csrf_of(&page.body)
    }
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("a form with a CSRF token");
    html[start..start + 64].to_owned()
}

pub async fn demo_app() -> (TestDb, Router) {
    let db = TestDb::sqlite();
    let database = Database::open(&db.url).await.expect("open");
    let engine = Engine::start(database, celltrace::engine_options(celltrace_ledger::SigningKey::from_bytes(&[3; 32])).expect("reference data"));
    celltrace::demo::load(&engine, now()).await.expect("demo");
    let app = celltrace_web::router(celltrace::web_state(engine, "http://celltrace.test").expect("web state"));
    (db, app)
}


/// (username, site the account starts at) for one account of each role.
pub const ACCOUNTS: &[(&str, &str)] = &[
    ("admin", "dubai-clinic"),
    ("auditor", "dubai-clinic"),
    ("dr.haddad", "dubai-clinic"),
    ("nurse.fatima", "dubai-clinic"),
    ("tech.rao", "mumbai-lab"),
    ("qa.mehta", "mumbai-lab"),
    ("log.khan", "mumbai-lab"),
    ("md.alsayed", "dubai-clinic"),
];

/// A clinic where staff can sign in, with units in every state the bedside must refuse.
pub async fn bedside_app() -> (TestDb, Router) {
    let db = TestDb::sqlite();
    let database = Database::open(&db.url).await.expect("open");
    let engine = Engine::start(database.clone(), celltrace::engine_options(celltrace_ledger::SigningKey::from_bytes(&[3; 32])).expect("reference data"));
    let at = now();
    let three_days_ago = celltrace_domain::time::Timestamp(at.0 - 3 * celltrace_domain::time::Timestamp::DAY);
    let mut subs = clinic(at);
    subs.extend(released_unit(1, at)); // good
    subs.extend(released_unit(2, at)); // another patient's
    subs.extend(released_unit(3, three_days_ago)); // expired
    let mut unreleased = released_unit(4, at);
    unreleased.pop();
    subs.extend(unreleased);
    subs.extend(released_unit(5, at));
    subs.push(submission("nurse", at, Command::WithdrawConsent { plan: "plan-5".parse().expect("id"), reason: "changed mind".into() }));
    for sub in subs {
        let name = sub.command.name();
        engine.submit(sub).await.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let hash = celltrace_web::auth::hash_password("nurse password 1").expect("hash");
    for staff in ["nurse", "nurse2", "logistics", "tech", "qa", "doc"] {
        let set = submission("system", now(), Command::SetPassword { staff: staff.parse().expect("id"), change: celltrace_domain::model::PasswordChange::Initial });
        let secret = celltrace_store::Secret::Password { staff: staff.parse().expect("id"), hash: hash.clone(), end_sessions: false };
        engine.submit_with_secret(set, secret).await.expect("password");
    }
    (db, celltrace_web::router(celltrace::web_state(engine, "http://celltrace.test").expect("web state")))
}

/// `n` visitors at the same address each open `form_page` (for the sign-in
/// forms' CSRF cookie), then all post `fields` to `path` at once, each on
/// a task of its own.
pub async fn all_at_once(app: &Router, form_page: &str, path: &str, n: usize, fields: &[(&str, &str)]) -> Vec<StatusCode> {
    let mut requests = Vec::new();
    for _ in 0..n {
        let mut client = Client::new(app);
        let csrf = csrf_of(&client.get(form_page).await.body);
        let body: Vec<String> = [("csrf", csrf.as_str())].iter().chain(fields).map(|(k, v)| format!("{k}={}", urlencode(v))).collect();
        let request = Request::post(path)
            .header(header::COOKIE, client.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.join("&")))
            .expect("request");
        requests.push(request);
    }
    let tasks: Vec<_> = requests.into_iter().map(|request| tokio::spawn(app.clone().oneshot(request))).collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("the request ran").expect("a response").status());
    }
    statuses
}

/// How many answers were checked (401: wrong) and how many held back (429).
pub fn checked_and_throttled(statuses: &[StatusCode]) -> (usize, usize) {
    let count = |s: StatusCode| statuses.iter().filter(|x| **x == s).count();
    (count(StatusCode::UNAUTHORIZED), count(StatusCode::TOO_MANY_REQUESTS))
}
