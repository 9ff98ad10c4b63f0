//! Choosing the portal's language: kept with the patient's account when
//! they are signed in (so it follows them to another device), and in a
//! cookie on this device either way. The form says where to go back to;
//! only a plain portal path is followed, anything else goes to /portal.

use super::{add_cookie, lang_cookie, request_language, Patient};
use crate::error::AppError;
use crate::{now_micros, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use celltrace_i18n::Lang;
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct LanguageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: String,
}

/// Where to go after choosing: `next` if it is a path of the portal made of
/// plain characters (no scheme, no host, no `//`, no control characters, so
/// nothing else can reach the `Location` header), else /portal.
fn safe_next(next: &str) -> &str {
    let in_portal = next == "/portal" || next.starts_with("/portal/") || next.starts_with("/portal?");
    let plain = next.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.?=&%".contains(c));
    if in_portal && plain && !next.contains("//") {
        next
    } else {
        "/portal"
    }
}

/// Changes the language: remembered with the patient's account when signed
/// in, in a cookie always.
pub(super) async fn choose_language(State(state): State<AppState>, patient: Option<Patient>, headers: HeaderMap, Form(form): Form<LanguageForm>) -> Result<Response, AppError> {
    let lang = Lang::parse(&form.lang).unwrap_or_else(|| request_language(&headers));
    if let Some(patient) = &patient {
        patient.check_csrf(&form.csrf)?;
        state.db().set_portal_language(&patient.person.id, lang.code(), now_micros()).await?;
    }
    let location = HeaderValue::from_str(safe_next(&form.next)).map_err(AppError::internal)?;
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    add_cookie(&mut response, &lang_cookie(state.config.https(), lang))?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_portal_paths_are_followed() {
        for good in ["/portal", "/portal/login", "/portal?done=answered", "/portal/plans/plan-1/consent"] {
            assert_eq!(safe_next(good), good);
        }
        for bad in ["", "//evil.example", "/portal//evil.example", "https://evil.example/portal", "javascript:alert(1)", "/portal\r\nSet-Cookie: x=1", "/portalx", "/login", "/portal/\u{7f}", "/portal/ü"] {
            assert_eq!(safe_next(bad), "/portal", "{bad:?}");
        }
    }
}
