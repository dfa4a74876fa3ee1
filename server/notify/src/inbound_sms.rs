//! `POST /sms/inbound`: the SMS people send to Reserv's numbers, answered with TwiML.
//!
//! To the residents' number (`sms.resident_number`) any text gets the current public
//! notice. To any other number the text is a staff command ([`StaffCommand`]) from the
//! person registered with the sender's number; an unknown number gets an empty answer
//! and leaves an audit event. Neither numbers nor texts are ever logged.

use crate::twiml::{Twiml, Verb};
use crate::webhooks::{Params, Webhooks, param};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use reserv_domain::phone::E164;
use reserv_domain::resident_line::information_sms;
use reserv_domain::sms::count_segments;
use reserv_domain::sms_commands::{StaffCommand, StaffReply};
use std::sync::Arc;

/// The answer to a resident stays within three segments: the headline and one or two
/// hotlines fit, and a long answer costs the municipality per segment.
const RESIDENT_SEGMENTS: usize = 3;

pub(crate) async fn inbound_sms(
    State(hooks): State<Arc<Webhooks>>,
    uri: Uri,
    headers: HeaderMap,
    Form(params): Form<Params>,
) -> Response {
    if !hooks.verified(&uri, &headers, &params).await {
        return StatusCode::FORBIDDEN.into_response();
    }
    let (Some(from), Some(to), Some(sid)) = (
        param(&params, "From"),
        param(&params, "To"),
        param(&params, "MessageSid"),
    ) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let body = param(&params, "Body").unwrap_or_default();
    let resident_line = hooks
        .settings
        .resident_number
        .as_ref()
        .is_some_and(|number| is_number(number, to));
    let answer = if resident_line {
        resident_answer(&hooks).await.map(Some)
    } else {
        staff_answer(&hooks, from, body, sid).await
    };
    match answer {
        Ok(text) => Twiml(text.map(Verb::Message).into_iter().collect()).into_response(),
        Err(error) => {
            tracing::error!(%error, resident_line, "could not answer an inbound SMS");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Whether the number the provider gives, however written, is `number`.
fn is_number(number: &E164, given: &str) -> bool {
    E164::parse("To", given).is_ok_and(|given| &given == number)
}

async fn resident_answer(hooks: &Webhooks) -> reserv_store::Result<String> {
    let notice = hooks.line.current_notice().await?;
    Ok(information_sms(
        notice.as_ref(),
        &hooks.settings.without_notice.sv,
        |text| count_segments(text).count <= RESIDENT_SEGMENTS,
    ))
}

/// The answer to a staff command, in the sender's language; `None` for a number no one
/// is registered with, which learns nothing (not even that the line exists).
async fn staff_answer(
    hooks: &Webhooks,
    from: &str,
    body: &str,
    message_sid: &str,
) -> reserv_store::Result<Option<String>> {
    let line = &hooks.line;
    let Ok(phone) = E164::parse("From", from) else {
        line.record_unknown_sender().await?;
        return Ok(None);
    };
    let sender = line.sender(&phone).await?;
    let command = StaffCommand::parse(body);
    // An opt-out is honoured from any number; the answer only goes to known ones.
    let reply = match (command, &sender) {
        (StaffCommand::Stop, sender) => line.opt_out(&phone, sender.as_ref()).await?,
        (StaffCommand::Start, sender) => line.opt_in(&phone, sender.as_ref()).await?,
        (_, None) => {
            line.record_unknown_sender().await?;
            return Ok(None);
        }
        (StaffCommand::Acknowledge { message }, Some(sender)) => {
            line.acknowledge(sender, message).await?
        }
        (StaffCommand::Status, Some(sender)) => line.status(sender).await?,
        (StaffCommand::Log { incident, text }, Some(sender)) => {
            line.log(sender, incident, &text, message_sid).await?
        }
        (StaffCommand::Help, Some(_)) => StaffReply::Help,
        (StaffCommand::LogWithoutText, Some(_)) => StaffReply::LogWithoutText,
        (StaffCommand::Unknown, Some(_)) => StaffReply::Unknown,
    };
    Ok(sender.map(|sender| {
        shorten(
            reply.text(sender.language),
            hooks.settings.max_segments.max(1),
        )
    }))
}

/// `text`, cut short with "..." when it needs more than `segments` SMS segments.
fn shorten(text: String, segments: usize) -> String {
    if count_segments(&text).count <= segments {
        return text;
    }
    let mut short = text;
    while !short.is_empty() && count_segments(&format!("{short}...")).count > segments {
        short.pop();
    }
    format!("{}...", short.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_answers_are_cut_to_the_segment_budget() {
        let long = "Öppna händelser: ".to_owned() + &"x".repeat(400);
        let short = shorten(long, 2);
        assert!(short.ends_with("..."));
        assert_eq!(count_segments(&short).count, 2);
        assert_eq!(shorten("OK".into(), 1), "OK");
    }

    #[test]
    fn numbers_compare_however_they_are_written() {
        let configured = |written: &str| E164::parse("sms.resident_number", written);
        assert!(configured("+46 70 174 06 99").is_ok_and(|n| is_number(&n, "+46701740699")));
        assert!(configured("+46701740699").is_ok_and(|n| !is_number(&n, "+46701740698")));
        assert!(configured("+46701740699").is_ok_and(|n| !is_number(&n, "not a number")));
    }
}
