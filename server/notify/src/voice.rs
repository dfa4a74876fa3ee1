//! `POST /voice/inbound`: the residents' phone line. A call hears the current public
//! notice in Swedish and a menu: 2 for the notice in English, 0 to be put through to the
//! notice's first hotline (or told when it opens, when it is closed), 1 to hear the
//! Swedish again. The key pressed comes back to this same URL with `?menu=sv|en`, a
//! URL the provider signs like any other.

use crate::twiml::{Twiml, Verb};
use crate::webhooks::{Params, Webhooks, param};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use reserv_domain::notices::NoticeContent;
use reserv_domain::people::Language;
use reserv_domain::resident_line::{
    ENGLISH_OFFER, HotlineHours, closed_for_the_ear, connecting_for_the_ear, hotline_hours,
    menu_for_the_ear, notice_for_the_ear,
};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub(crate) struct Menu {
    /// The menu the key was pressed in: `sv` or `en`; none on the first request.
    menu: Option<String>,
}

fn voice(language: Language) -> &'static str {
    match language {
        Language::Sv => "sv-SE",
        Language::En => "en-GB",
    }
}

pub(crate) async fn inbound_call(
    State(hooks): State<Arc<Webhooks>>,
    Query(menu): Query<Menu>,
    uri: Uri,
    headers: HeaderMap,
    Form(params): Form<Params>,
) -> Response {
    if !hooks.verified(&uri, &headers, &params).await {
        return StatusCode::FORBIDDEN.into_response();
    }
    let notice = match hooks.line.current_notice().await {
        Ok(notice) => notice,
        Err(error) => {
            tracing::error!(%error, "could not read the public notice for a call");
            None
        }
    };
    let in_menu = match menu.menu.as_deref() {
        Some("en") => Language::En,
        _ => Language::Sv,
    };
    let twiml = match param(&params, "Digits") {
        Some("2") => menu_twiml(&hooks, notice.as_ref(), Language::En),
        Some("0") => hotline_twiml(&hooks, notice.as_ref(), in_menu),
        _ => menu_twiml(&hooks, notice.as_ref(), Language::Sv),
    };
    twiml.into_response()
}

/// The notice and the menu in `language`, waiting for a key; a caller who presses
/// nothing hears goodbye.
fn menu_twiml(hooks: &Webhooks, notice: Option<&NoticeContent>, language: Language) -> Twiml {
    let hotline = notice.and_then(|notice| notice.hotlines.first());
    let (welcome, goodbye) = match language {
        Language::Sv => (
            "Du har ringt kommunens informationslinje.",
            "Tack för att du ringde. Hej då.",
        ),
        Language::En => (
            "This is the municipality's information line.",
            "Thank you for calling. Goodbye.",
        ),
    };
    let say = |text: String| Verb::Say {
        language: voice(language),
        text,
    };
    let mut spoken = vec![
        say(welcome.to_owned()),
        say(notice_for_the_ear(
            notice,
            language,
            hooks.settings.without_notice.get(language),
        )),
    ];
    if language == Language::Sv {
        spoken.push(Verb::Say {
            language: voice(Language::En),
            text: ENGLISH_OFFER.to_owned(),
        });
    }
    spoken.push(say(menu_for_the_ear(hotline, language)));
    Twiml(vec![
        Verb::Gather {
            action: hooks.public(&format!("/voice/inbound?menu={}", language.as_str())),
            say: spoken,
        },
        say(goodbye.to_owned()),
        Verb::Hangup,
    ])
}

/// Key 0: the first hotline, when it is open; otherwise when it opens.
fn hotline_twiml(hooks: &Webhooks, notice: Option<&NoticeContent>, language: Language) -> Twiml {
    let Some(hotline) = notice.and_then(|notice| notice.hotlines.first()) else {
        return menu_twiml(hooks, notice, language);
    };
    let say = |text: String| Verb::Say {
        language: voice(language),
        text,
    };
    match hotline_hours(hotline, hooks.line.now(), language) {
        HotlineHours::Open => Twiml(vec![
            say(connecting_for_the_ear(hotline, language)),
            Verb::Dial(hotline.phone.as_str().to_owned()),
        ]),
        HotlineHours::Closed { opens } => Twiml(vec![
            say(closed_for_the_ear(hotline, opens.as_deref(), language)),
            Verb::Hangup,
        ]),
    }
}
