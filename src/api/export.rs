//! `/export/{token}`: the one-time link texted after "export my data".
//! GET shows a page with one button and spends nothing (messaging apps
//! open links to preview them); POST spends the link and answers the
//! export document as a JSON download. The work is `privacy::export`.

use axum::extract::{Path, State};
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::html;
use sqlx::PgPool;

use super::pages::{Lang, layout};
use crate::privacy::{ExportError, ExportLinks};
use crate::store::Locale;

/// What the export routes need; `links` is `None` without `CONNECT_LINK_KEYS`.
#[derive(Clone)]
pub struct ExportState {
    pub links: Option<ExportLinks>,
    pub db: PgPool,
}

fn no_store(mut response: Response) -> Response {
    // One person's data: never cached by a browser or proxy.
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn failure(headers: &HeaderMap, error: &ExportError) -> Response {
    let lang =
        Lang::from_accept_language(headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    match error {
        ExportError::Internal(why) => tracing::error!(error = %why, "export link failed"),
        other => tracing::info!(outcome = %other, "export link refused"),
    }
    let fr = lang.fr();
    let (title, text) = match (error, fr) {
        (ExportError::Expired | ExportError::Used, false) => (
            "This link has expired",
            "Export links work once, for 15 minutes. Text \"export my data\" for a new one.",
        ),
        (ExportError::Expired | ExportError::Used, true) => (
            "Ce lien a expiré",
            "Les liens d'export sont valables une fois, 15 minutes. Écrivez « exporter mes données » pour en recevoir un nouveau.",
        ),
        (ExportError::Invalid, false) => (
            "This link is not valid",
            "Check that the whole link was opened.",
        ),
        (ExportError::Invalid, true) => (
            "Ce lien n'est pas valide",
            "Vérifiez que le lien a été ouvert en entier.",
        ),
        (ExportError::Internal(_), false) => {
            ("Something went wrong", "Please try again in a moment.")
        }
        (ExportError::Internal(_), true) => {
            ("Une erreur est survenue", "Réessayez dans un instant.")
        }
    };
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let markup = layout(lang, title, html! { h1 { (title) } p { (text) } });
    no_store((status, Html(markup.into_string())).into_response())
}

fn unavailable(headers: &HeaderMap) -> Response {
    failure(headers, &ExportError::Invalid)
}

#[tracing::instrument(name = "export_page", skip_all)]
pub async fn page(
    State(state): State<ExportState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(links) = state.links.as_ref() else {
        return unavailable(&headers);
    };
    let locale = match links.check(&state.db, &token).await {
        Ok(locale) => locale,
        Err(e) => return failure(&headers, &e),
    };
    let lang = match locale {
        Locale::Fr => Lang::Fr,
        Locale::En => Lang::En,
    };
    let (title, text, button, note) = if lang.fr() {
        (
            "Télécharger vos données",
            "Tout ce que Nudge garde pour vous, en un fichier JSON : profil, numéros, messages, rappels, listes, tâches, dépenses, souvenirs, comptes connectés (sans leurs clés) et journal d'audit.",
            "Télécharger",
            "Ce lien ne fonctionne qu'une fois.",
        )
    } else {
        (
            "Download your data",
            "Everything Nudge keeps for you, as one JSON file: profile, numbers, messages, reminders, lists, tasks, expenses, memories, connected accounts (without their keys) and audit log.",
            "Download",
            "This link works once.",
        )
    };
    let action = format!("/export/{token}");
    let markup = layout(
        lang,
        title,
        html! {
            h1 { (title) }
            p { (text) }
            form method="post" action=(action) { button type="submit" { (button) } }
            p.small { (note) }
        },
    );
    no_store((StatusCode::OK, Html(markup.into_string())).into_response())
}

#[tracing::instrument(name = "export_download", skip_all)]
pub async fn download(
    State(state): State<ExportState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(links) = state.links.as_ref() else {
        return unavailable(&headers);
    };
    let document = match links.download(&state.db, &token).await {
        Ok(d) => d,
        Err(e) => return failure(&headers, &e),
    };
    let body = match serde_json::to_vec_pretty(&document) {
        Ok(b) => b,
        Err(e) => return failure(&headers, &ExportError::Internal(e.to_string())),
    };
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"nudge-export.json\""),
    );
    no_store(response)
}
