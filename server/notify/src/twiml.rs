//! TwiML, the XML a Twilio-compatible provider expects in answer to a webhook: what to
//! text back, what to say on a call, which digits to wait for, which number to dial.
//! Written with quick-xml, so that every text and URL is escaped.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

/// One instruction of a TwiML answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verb {
    /// An SMS back to the sender.
    Message(String),
    /// Speech in `language` (`sv-SE`, `en-GB`).
    Say {
        language: &'static str,
        text: String,
    },
    /// Waits for one key; the provider posts it as `Digits` to `action`, or goes on
    /// with the next verb when none is pressed.
    Gather {
        action: String,
        say: Vec<Verb>,
    },
    /// Puts the caller through to an E.164 number.
    Dial(String),
    Hangup,
}

/// A TwiML document, served as `text/xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Twiml(pub Vec<Verb>);

impl Twiml {
    /// The document; the writer goes to memory, so writing cannot fail in practice,
    /// and an empty `<Response/>` (do nothing) is the safe answer if it ever did.
    pub fn render(&self) -> String {
        let mut writer = Writer::new(Vec::new());
        let written = writer
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .and_then(|()| {
                writer
                    .create_element("Response")
                    .write_inner_content(|writer| write_verbs(writer, &self.0))
                    .map(|_| ())
            });
        match written
            .ok()
            .and_then(|()| String::from_utf8(writer.into_inner()).ok())
        {
            Some(document) => document,
            None => r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#.to_owned(),
        }
    }
}

fn write_verbs(writer: &mut Writer<Vec<u8>>, verbs: &[Verb]) -> std::io::Result<()> {
    for verb in verbs {
        match verb {
            Verb::Message(text) => {
                writer
                    .create_element("Message")
                    .write_text_content(BytesText::new(text))?;
            }
            Verb::Say { language, text } => {
                writer
                    .create_element("Say")
                    .with_attribute(("language", *language))
                    .write_text_content(BytesText::new(text))?;
            }
            Verb::Gather { action, say } => {
                writer
                    .create_element("Gather")
                    .with_attribute(("numDigits", "1"))
                    .with_attribute(("method", "POST"))
                    .with_attribute(("action", action.as_str()))
                    .write_inner_content(|writer| write_verbs(writer, say))?;
            }
            Verb::Dial(number) => {
                writer
                    .create_element("Dial")
                    .write_text_content(BytesText::new(number))?;
            }
            Verb::Hangup => {
                writer.create_element("Hangup").write_empty()?;
            }
        }
    }
    Ok(())
}

impl IntoResponse for Twiml {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            self.render(),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_urls_are_escaped() {
        let document = Twiml(vec![
            Verb::Message("Kvitterat <M4> & klart".into()),
            Verb::Gather {
                action: "https://reserv.example.se/voice/inbound?step=menu&lang=sv".into(),
                say: vec![Verb::Say {
                    language: "sv-SE",
                    text: "Tryck 2".into(),
                }],
            },
            Verb::Hangup,
        ])
        .render();
        assert_eq!(
            document,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
             <Message>Kvitterat &lt;M4&gt; &amp; klart</Message>\
             <Gather numDigits=\"1\" method=\"POST\" action=\"https://reserv.example.se/voice/inbound?step=menu&amp;lang=sv\">\
             <Say language=\"sv-SE\">Tryck 2</Say></Gather><Hangup/></Response>"
        );
        assert_eq!(
            Twiml(Vec::new()).render(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>"
        );
    }
}
