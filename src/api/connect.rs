//! The connect flow's routes: `/connect/{token}` (GET: the consent page;
//! POST: on to the provider) and `/oauth/{provider}/callback`. The work is
//! `oauth::flow`; this file turns its answers into pages and headers.

use axum::extract::{Path, Query, State};
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::pages::{self, Lang};
use crate::oauth::{CallbackParams, FlowError, OAuthService};
use crate::store::Locale;

/// What the OAuth routes need; `None` when OAuth is not set up here.
#[derive(Clone)]
pub struct ConnectState {
    pub oauth: Option<OAuthService>,
}

fn lang_of(locale: Locale) -> Lang {
    match locale {
        Locale::Fr => Lang::Fr,
        Locale::En => Lang::En,
    }
}

fn page(status: StatusCode, markup: maud::Markup) -> Response {
    let mut response = (status, Html(markup.into_string())).into_response();
    // Pages name one person's link: never cached by a browser or proxy.
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn failure(headers: &HeaderMap, error: &FlowError) -> Response {
    let lang =
        Lang::from_accept_language(headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    match error {
        FlowError::Internal(why) => tracing::error!(error = %why, "connect flow failed"),
        other => tracing::info!(outcome = %other, "connect flow refused"),
    }
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    page(status, pages::failure(lang, error))
}

/// Without OAuth keys nothing can be connected here: every route says so.
fn not_available(headers: &HeaderMap) -> Response {
    failure(headers, &FlowError::UnknownProvider)
}

#[tracing::instrument(name = "connect_page", skip_all)]
pub async fn consent(
    State(state): State<ConnectState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(oauth) = state.oauth.as_ref() else {
        return not_available(&headers);
    };
    match oauth.consent(&token).await {
        Ok(c) => page(
            StatusCode::OK,
            pages::consent(
                lang_of(c.locale),
                c.provider,
                c.access,
                &format!("/connect/{token}"),
            ),
        ),
        Err(e) => failure(&headers, &e),
    }
}

#[tracing::instrument(name = "connect_begin", skip_all)]
pub async fn begin(
    State(state): State<ConnectState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(oauth) = state.oauth.as_ref() else {
        return not_available(&headers);
    };
    match oauth.begin(&token).await {
        Ok(begun) => {
            let (Ok(location), Ok(cookie)) = (
                HeaderValue::from_str(&begun.authorize_url),
                HeaderValue::from_str(&begun.set_cookie),
            ) else {
                return failure(&headers, &FlowError::Internal("unusable redirect".into()));
            };
            let mut response = StatusCode::SEE_OTHER.into_response();
            let h = response.headers_mut();
            h.insert(LOCATION, location);
            h.insert(SET_COOKIE, cookie);
            h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => failure(&headers, &e),
    }
}

#[tracing::instrument(name = "oauth_callback", skip_all, fields(provider = %provider))]
pub async fn callback(
    State(state): State<ConnectState>,
    Path(provider): Path<String>,
    query: Result<Query<CallbackParams>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Some(oauth) = state.oauth.as_ref() else {
        return not_available(&headers);
    };
    // An unreadable query is a callback without a state: refused below.
    let params = query.map(|Query(q)| q).unwrap_or_default();
    let cookie = headers.get(COOKIE).and_then(|v| v.to_str().ok());
    match oauth.callback(&provider, &params, cookie).await {
        Ok(done) => {
            let mut response = page(
                StatusCode::OK,
                pages::connected(lang_of(done.locale), done.provider),
            );
            if let Ok(clear) = HeaderValue::from_str(&done.clear_cookie) {
                response.headers_mut().insert(SET_COOKIE, clear);
            }
            response
        }
        Err(e) => failure(&headers, &e),
    }
}
