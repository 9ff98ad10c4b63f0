//! The account pages (every grant of access is a ledger event): a
//! deactivation stops the person's sessions and API tokens at once and a
//! reactivation lets them sign in again; role changes take effect on the
//! next request; a reset password works and the old one does not; a weak
//! password is refused with its field marked; an administrator of one site
//! cannot manage the staff of another; each grant is in the account's trail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use celltrace_domain::model::Staff;
use celltrace_domain::{EntityKey, EntityKind};
use celltrace_store::Database;
use common::web::*;

const PASSWORD: &str = "celltrace-demo";

/// The value of `attribute` on a refused form's alert.
fn alert_attribute(body: &str, attribute: &str) -> Option<String> {
    let alert = &body[body.find("id=\"form-error\"")?..];
    let alert = &alert[..alert.find('>')?];
    let marker = format!("{attribute}=\"");
    let start = alert.find(&marker)? + marker.len();
    Some(alert[start..start + alert[start..].find('"')?].to_owned())
}

/// Asserts a form came back refused with `code`, `field` marked.
fn assert_refused(page: &Page, code: &str, field: &str) {
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    assert_eq!(alert_attribute(&page.body, "data-code").as_deref(), Some(code), "{}", page.body);
    assert_eq!(alert_attribute(&page.body, "data-field").as_deref(), Some(field), "{}", page.body);
    assert!(page.body.contains(&format!("aria-describedby=\"e-{field}\"")), "the field {field} is marked: {}", page.body);
}

async fn signed_in(app: &axum::Router, username: &str, password: &str) -> Client {
    let mut client = Client::new(app);
    assert_eq!(client.login(username, password).await.location, "/", "{username} signs in");
    client
}

/// A command through the JSON API with a bearer token: the status.
async fn api_read(app: &axum::Router, token: &str) -> StatusCode {
    let body = serde_json::json!({ "site": "dubai-clinic", "command": { "type": "record_record_viewed", "person": "p-layla", "view": "script" } });
    let request = Request::post("/api/commands")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    Client::new(app).send(request).await.status
}

async fn staff(database: &Database, id: &str) -> Staff {
    database.reader().get::<Staff>(id).await.expect("read").expect("account")
}

/// Issues an API token to `member` from their page; returns the token shown once.
async fn issue_token(admin: &mut Client, member: &str) -> String {
    let csrf = admin.csrf().await;
    let form = admin.get(&format!("/admin/staff/{member}/tokens/new")).await;
    assert_eq!(form.status, StatusCode::OK);
    let unconfirmed = admin.post(&format!("/admin/staff/{member}/tokens/new"), &[("csrf", &csrf), ("label", "lab import"), ("admin_password", "not mine")]).await;
    assert_refused(&unconfirmed, "signature_not_proven", "admin_password");
    let issued = admin.post(&format!("/admin/staff/{member}/tokens/new"), &[("csrf", &csrf), ("label", "lab import"), ("days", "30"), ("admin_password", PASSWORD)]).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let marker = "<code id=\"api-token\">";
    let start = issued.body.find(marker).expect("the token is shown") + marker.len();
    let token = issued.body[start..start + issued.body[start..].find('<').expect("end")].to_owned();
    assert!(token.starts_with("ct_") && token.len() == 67, "{token}");
    token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_stops_sessions_and_tokens_at_once_and_reactivation_restores_sign_in() {
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let mut admin = signed_in(&app, "admin", PASSWORD).await;
    let mut fatima = signed_in(&app, "nurse.fatima", PASSWORD).await;
    let token = issue_token(&mut admin, "nurse.fatima").await;
    assert_eq!(api_read(&app, &token).await, StatusCode::OK, "the token works");
    let page = admin.get("/admin/staff/nurse.fatima").await;
    assert!(page.body.contains("lab import") && page.body.contains("works"), "the member's page lists the token");

    let csrf = admin.csrf().await;
    let no_reason = admin.post("/admin/staff/nurse.fatima/deactivate", &[("csrf", &csrf), ("reason", "")]).await;
    assert_refused(&no_reason, "missing_field", "reason");
    assert!(staff(&database, "nurse.fatima").await.active, "a refused form changes nothing");
    let done = admin.post("/admin/staff/nurse.fatima/deactivate", &[("csrf", &csrf), ("reason", "Left the clinic")]).await;
    assert_eq!(done.location, "/admin/staff/nurse.fatima?done=deactivated", "{}", done.body);
    assert!(!staff(&database, "nurse.fatima").await.active);

    // At once: the open session's next request goes to sign-in, the token is refused, and so is the password.
    assert_eq!(fatima.get("/").await.location, "/login");
    assert_eq!(api_read(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert_ne!(Client::new(&app).login("nurse.fatima", PASSWORD).await.location, "/", "a deactivated account cannot sign in");
    let page = admin.get("/admin/staff/nurse.fatima").await;
    assert!(page.body.contains("deactivated") && page.body.contains("Left the clinic"), "{}", page.body);
    assert!(admin.get("/admin/staff").await.body.contains("deactivated"), "the list shows the state");

    // Reactivating grants access again: the administrator confirms with their own password.
    let unconfirmed = admin.post("/admin/staff/nurse.fatima/reactivate", &[("csrf", &csrf), ("reason", "Back from leave"), ("admin_password", "wrong")]).await;
    assert_refused(&unconfirmed, "signature_not_proven", "admin_password");
    assert!(!staff(&database, "nurse.fatima").await.active);
    let done = admin.post("/admin/staff/nurse.fatima/reactivate", &[("csrf", &csrf), ("reason", "Back from leave"), ("admin_password", PASSWORD)]).await;
    assert_eq!(done.location, "/admin/staff/nurse.fatima?done=reactivated", "{}", done.body);
    assert_eq!(fatima.get("/").await.location, "/login", "the session ended at the deactivation stays ended");
    signed_in(&app, "nurse.fatima", PASSWORD).await;
    assert_eq!(api_read(&app, &token).await, StatusCode::OK, "an unrevoked token works again");

    // Revoking the token stops it.
    let token_id = format!("tok-{}", &celltrace_store::read::token_hash(&token)[..16]);
    let revoke = format!("/admin/staff/nurse.fatima/tokens/{token_id}/revoke");
    assert_eq!(admin.get(&revoke).await.status, StatusCode::OK);
    let done = admin.post(&revoke, &[("csrf", &csrf), ("reason", "The import moved to another account")]).await;
    assert_eq!(done.location, "/admin/staff/nurse.fatima?done=revoked", "{}", done.body);
    assert_eq!(api_read(&app, &token).await, StatusCode::UNAUTHORIZED);
    let again = admin.post(&revoke, &[("csrf", &csrf), ("reason", "twice")]).await;
    assert_eq!(alert_attribute(&again.body, "data-code").as_deref(), Some("already_revoked"), "{}", again.body);

    // Each grant is a ledger event in the account's trail (and the revocation in the token's).
    let trail = database.reader().trail(&EntityKey::new(EntityKind::Staff, "nurse.fatima")).await.expect("trail");
    let kinds: Vec<&str> = trail.iter().map(|(e, _)| e.record.kind.as_str()).collect();
    for kind in ["staff_registered", "password_set", "api_token_issued", "staff_deactivated", "staff_reactivated"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let granted = ["api_token_issued", "staff_deactivated", "staff_reactivated"];
    assert!(trail.iter().filter(|(e, _)| granted.contains(&e.record.kind.as_str())).all(|(e, _)| e.record.actor == "staff:admin"), "granted by the administrator");
    let token_trail = database.reader().trail(&EntityKey::new(EntityKind::ApiToken, &token_id)).await.expect("trail");
    let kinds: Vec<&str> = token_trail.iter().map(|(e, _)| e.record.kind.as_str()).collect();
    assert_eq!(kinds, ["api_token_issued", "api_token_revoked"]);
    assert!(admin.get("/admin/staff/nurse.fatima").await.body.contains("/audit/staff/nurse.fatima"), "the page links the trail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_changes_take_effect_on_the_next_request() {
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let mut admin = signed_in(&app, "admin", PASSWORD).await;
    let mut omar = signed_in(&app, "nurse.omar", PASSWORD).await;
    assert_eq!(omar.get("/ledger").await.status, StatusCode::FORBIDDEN, "a nurse does not see the ledger");
    assert_eq!(omar.get("/bedside").await.status, StatusCode::OK);

    let form = admin.get("/admin/staff/nurse.omar/roles").await;
    assert!(form.body.contains("value=\"nurse\" checked"), "the roles held are ticked: {}", form.body);
    let csrf = csrf_of(&form.body);
    let unconfirmed = admin.post("/admin/staff/nurse.omar/roles", &[("csrf", &csrf), ("roles", "auditor"), ("reason", "Internal audit"), ("admin_password", "")]).await;
    assert_refused(&unconfirmed, "missing_field", "admin_password");
    let done = admin.post("/admin/staff/nurse.omar/roles", &[("csrf", &csrf), ("roles", "auditor"), ("reason", "Internal audit"), ("admin_password", PASSWORD)]).await;
    assert_eq!(done.location, "/admin/staff/nurse.omar?done=roles", "{}", done.body);
    assert_eq!(omar.get("/ledger").await.status, StatusCode::OK, "the auditor's role counts at once");
    assert_eq!(omar.get("/bedside").await.status, StatusCode::FORBIDDEN, "the nurse's role is gone at once");
    assert!(admin.get("/admin/staff/nurse.omar").await.body.contains("<strong id=\"roles-here\">auditor</strong>"));

    // An administrator cannot take their own administrator role away here: the rules' answer, marked on the roles.
    let own = admin.post("/admin/staff/admin/roles", &[("csrf", &csrf), ("roles", "auditor"), ("reason", "oops"), ("admin_password", PASSWORD)]).await;
    assert_refused(&own, "last_administrator", "roles");
    let trail = database.reader().trail(&EntityKey::new(EntityKind::Staff, "nurse.omar")).await.expect("trail");
    assert!(trail.iter().any(|(e, _)| e.record.kind == "staff_memberships_changed" && e.record.actor == "staff:admin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_password_works_the_old_one_does_not_and_weak_ones_are_refused() {
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let mut admin = signed_in(&app, "admin", PASSWORD).await;
    let mut omar = signed_in(&app, "nurse.omar", PASSWORD).await;
    let csrf = admin.csrf().await;
    let reset = "/admin/staff/nurse.omar/password";
    assert_eq!(admin.get(reset).await.status, StatusCode::OK);
    let weak = admin.post(reset, &[("csrf", &csrf), ("admin_password", PASSWORD), ("password", "password1234"), ("repeat", "password1234")]).await;
    assert_refused(&weak, "password_policy", "password");
    assert!(!weak.body.contains("password1234"), "a password is never sent back");
    let differ = admin.post(reset, &[("csrf", &csrf), ("admin_password", PASSWORD), ("password", "amber violin harbour 62"), ("repeat", "amber violin harbour 63")]).await;
    assert_eq!(alert_attribute(&differ.body, "data-field").as_deref(), Some("repeat"), "{}", differ.body);
    let unconfirmed = admin.post(reset, &[("csrf", &csrf), ("admin_password", "guess"), ("password", "amber violin harbour 62"), ("repeat", "amber violin harbour 62")]).await;
    assert_refused(&unconfirmed, "signature_not_proven", "admin_password");
    assert!(omar.get("/").await.body.contains("Work queues"), "refusals change nothing");
    let done = admin.post(reset, &[("csrf", &csrf), ("admin_password", PASSWORD), ("password", "amber violin harbour 62"), ("repeat", "amber violin harbour 62")]).await;
    assert_eq!(done.location, "/admin/staff/nurse.omar?done=password", "{}", done.body);
    assert_eq!(omar.get("/").await.location, "/login", "every session of the member ended");
    assert_ne!(Client::new(&app).login("nurse.omar", PASSWORD).await.location, "/", "the old password no longer works");
    let mut omar = signed_in(&app, "nurse.omar", "amber violin harbour 62").await;

    // The member then changes it themselves, re-entering the current one.
    let form = omar.get("/account/password").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = csrf_of(&form.body);
    let wrong = omar.post("/account/password", &[("csrf", &csrf), ("current_password", PASSWORD), ("password", "copper lantern meadow 19"), ("repeat", "copper lantern meadow 19")]).await;
    assert_refused(&wrong, "signature_not_proven", "current_password");
    let weak = omar.post("/account/password", &[("csrf", &csrf), ("current_password", "amber violin harbour 62"), ("password", "qwertyuiopasdf"), ("repeat", "qwertyuiopasdf")]).await;
    assert_refused(&weak, "password_policy", "password");
    let done = omar.post("/account/password", &[("csrf", &csrf), ("current_password", "amber violin harbour 62"), ("password", "copper lantern meadow 19"), ("repeat", "copper lantern meadow 19")]).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Your password is changed"), "{}", done.body);
    assert_eq!(omar.get("/").await.location, "/login", "this session ended too");
    signed_in(&app, "nurse.omar", "copper lantern meadow 19").await;
    assert_ne!(Client::new(&app).login("nurse.omar", "amber violin harbour 62").await.location, "/");

    let trail = database.reader().trail(&EntityKey::new(EntityKind::Staff, "nurse.omar")).await.expect("trail");
    let changes: Vec<String> = trail.iter().filter(|(e, _)| e.record.kind == "password_set").map(|(e, _)| String::from_utf8_lossy(&e.record.payload).into_owned()).collect();
    assert_eq!(changes.len(), 3, "the first password, the reset and the member's own: {changes:?}");
    assert!(changes[1].contains("administrator_reset") && changes[2].contains("self_service"), "{changes:?}");
    assert!(trail.iter().all(|(e, _)| !String::from_utf8_lossy(&e.record.payload).contains("argon2")), "no hash in the ledger");
    // Every signed-in member reaches their own page, whatever their roles.
    let mut auditor = signed_in(&app, "auditor", PASSWORD).await;
    assert_eq!(auditor.get("/account/password").await.status, StatusCode::OK);
    assert_eq!(Client::new(&app).get("/account/password").await.location, "/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_of_one_site_cannot_manage_the_staff_of_another() {
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let mut admin = signed_in(&app, "admin", PASSWORD).await;
    let csrf = admin.csrf().await;
    let added = admin
        .post("/admin/staff/new", &[("csrf", &csrf), ("name", "Rania Saleh"), ("username", "admin.dubai"), ("roles", "administrator"), ("password", "saffron kettle orbit 44")])
        .await;
    assert_eq!(added.location, "/admin/staff", "{}", added.body);
    let mut dubai = signed_in(&app, "admin.dubai", "saffron kettle orbit 44").await;
    let list = dubai.get("/admin/staff").await;
    assert!(list.body.contains("nurse.fatima") && !list.body.contains("nurse.evans"), "only this site's staff are listed");
    // London's nurse: not shown here, and every change is refused by the rules, by name.
    assert_eq!(dubai.get("/admin/staff/nurse.evans").await.status, StatusCode::NOT_FOUND);
    assert_eq!(dubai.get("/admin/staff/nurse.evans/password").await.status, StatusCode::NOT_FOUND);
    let csrf = dubai.csrf().await;
    let deactivate = dubai.post("/admin/staff/nurse.evans/deactivate", &[("csrf", &csrf), ("reason", "not mine to do")]).await;
    assert_eq!(alert_attribute(&deactivate.body, "data-code").as_deref(), Some("other_site"), "{}", deactivate.body);
    let reset = dubai.post("/admin/staff/nurse.evans/password", &[("csrf", &csrf), ("admin_password", "saffron kettle orbit 44"), ("password", "amber violin harbour 62"), ("repeat", "amber violin harbour 62")]).await;
    assert_eq!(alert_attribute(&reset.body, "data-code").as_deref(), Some("other_site"), "{}", reset.body);
    let token = dubai.post("/admin/staff/nurse.evans/tokens/new", &[("csrf", &csrf), ("label", "x"), ("admin_password", "saffron kettle orbit 44")]).await;
    assert_eq!(alert_attribute(&token.body, "data-code").as_deref(), Some("other_site"), "{}", token.body);
    let roles = dubai.post("/admin/staff/nurse.evans/roles", &[("csrf", &csrf), ("roles", "nurse"), ("reason", "x"), ("admin_password", "saffron kettle orbit 44")]).await;
    assert_eq!(alert_attribute(&roles.body, "data-code").as_deref(), Some("other_site"), "adding her to Dubai first is refused too: {}", roles.body);
    let evans = staff(&database, "nurse.evans").await;
    assert!(evans.active && evans.memberships.len() == 1, "nothing changed for London's nurse");
    assert_eq!(signed_in(&app, "nurse.evans", PASSWORD).await.get("/").await.status, StatusCode::OK, "her password still works");
    // A CSRF-less post is refused before anything else.
    assert_eq!(dubai.post("/admin/staff/nurse.fatima/deactivate", &[("reason", "x")]).await.status, StatusCode::FORBIDDEN);
    assert!(staff(&database, "nurse.fatima").await.active);
}
