//! The provider's inbound webhooks through real HTTP, signed as the provider signs them:
//! staff answering and logging by SMS on the staff line, residents asking the residents'
//! line, and the residents' phone line whose TwiML is read back with an XML parser.

use crate::sms_delivery::{a_mock_provider, settings, sign};
use crate::subscriptions::report;
use chrono::Timelike;
use quick_xml::events::Event;
use reserv_notify::DeliveryWorker;
use reserv_notify::twilio::TwilioClient;
use reserv_tests::{
    Client, RESIDENT_NUMBER, SMS_PUBLIC_URL, STAFF_NUMBER, TestServer, id_where, on_every_database,
};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Anna Berglund, crisis lead (`krisledare`).
const ANNA: &str = "+46701740605";
/// Linnea Isaksson, care worker in Hemtjänst Norr (`underskoterska`).
const LINNEA: &str = "+46701740621";
/// Grace Mwangi, who reads English.
const GRACE: &str = "+46701740623";
const UNKNOWN: &str = "+46700000001";

/// One element of a TwiML answer: its path from the root, attributes and text.
#[derive(Debug)]
struct Element {
    path: String,
    attributes: HashMap<String, String>,
    text: String,
}

/// Reads a TwiML document with an XML parser.
fn parse_twiml(xml: &str) -> anyhow::Result<Vec<Element>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut open: Vec<usize> = Vec::new();
    let mut elements: Vec<Element> = Vec::new();
    loop {
        let (tag, empty) = match reader.read_event()? {
            Event::Start(tag) => (tag, false),
            Event::Empty(tag) => (tag, true),
            Event::Text(text) => {
                if let Some(element) = open.last().and_then(|at| elements.get_mut(*at)) {
                    element.text.push_str(&text.decode()?);
                }
                continue;
            }
            Event::GeneralRef(reference) => {
                let name = reference.decode()?.into_owned();
                let resolved = match reference.resolve_char_ref()? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&name)
                        .unwrap_or_default()
                        .to_owned(),
                };
                if let Some(element) = open.last().and_then(|at| elements.get_mut(*at)) {
                    element.text.push_str(&resolved);
                }
                continue;
            }
            Event::End(_) => {
                open.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = String::from_utf8(tag.name().as_ref().to_vec())?;
        let parent = open
            .last()
            .and_then(|at| elements.get(*at))
            .map(|element| format!("{}/", element.path))
            .unwrap_or_default();
        let mut attributes = HashMap::new();
        for attribute in tag.attributes() {
            let attribute = attribute?;
            attributes.insert(
                String::from_utf8(attribute.key.as_ref().to_vec())?,
                attribute
                    .normalized_value(quick_xml::XmlVersion::Explicit1_0)?
                    .into_owned(),
            );
        }
        elements.push(Element {
            path: format!("{parent}{name}"),
            attributes,
            text: String::new(),
        });
        if !empty {
            open.push(elements.len() - 1);
        }
    }
    Ok(elements)
}

fn at<'a>(elements: &'a [Element], path: &str) -> Vec<&'a Element> {
    elements
        .iter()
        .filter(|element| element.path == path)
        .collect()
}

/// Posts `params` to `path_and_query` on the server with the provider's signature over
/// `signed_url`; answers the status and body.
async fn post_signed(
    server: &TestServer,
    path_and_query: &str,
    signed_url: &str,
    signed: &[(&str, String)],
    sent: &[(&str, String)],
) -> anyhow::Result<(u16, String)> {
    let response = reqwest::Client::new()
        .post(format!("{}{path_and_query}", server.base_url))
        .header("X-Twilio-Signature", sign(signed_url, signed))
        .form(sent)
        .send()
        .await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.text().await?;
    if status == 200 {
        anyhow::ensure!(content_type.starts_with("text/xml"), "{content_type}");
    }
    Ok((status, body))
}

fn sms(from: &str, to: &str, body: &str, sid: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AccountSid", "AC0123456789abcdef0123456789abcdef".into()),
        ("MessageSid", sid.into()),
        ("From", from.into()),
        ("To", to.into()),
        ("Body", body.into()),
        ("NumMedia", "0".into()),
    ]
}

/// Texts `body` from `from` to the staff line; answers the SMS Reserv texts back.
pub(crate) async fn text(
    server: &TestServer,
    from: &str,
    body: &str,
    sid: &str,
) -> anyhow::Result<String> {
    text_to(server, from, STAFF_NUMBER, body, sid).await
}

async fn text_to(
    server: &TestServer,
    from: &str,
    to: &str,
    body: &str,
    sid: &str,
) -> anyhow::Result<String> {
    let params = sms(from, to, body, sid);
    let url = format!("{SMS_PUBLIC_URL}/sms/inbound");
    let (status, twiml) = post_signed(server, "/sms/inbound", &url, &params, &params).await?;
    anyhow::ensure!(status == 200, "{status}: {twiml}");
    let elements = parse_twiml(&twiml)?;
    Ok(at(&elements, "Response/Message")
        .iter()
        .map(|message| message.text.clone())
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Calls the residents' line, pressing `digits` in `menu` (none on the first request).
async fn call(
    server: &TestServer,
    menu: Option<&str>,
    digits: Option<&str>,
) -> anyhow::Result<Vec<Element>> {
    let path = match menu {
        Some(menu) => format!("/voice/inbound?menu={menu}"),
        None => "/voice/inbound".to_owned(),
    };
    let mut params = vec![
        ("CallSid", "CA0123456789abcdef0123456789abcdef".to_owned()),
        ("From", "+46701111111".to_owned()),
        ("To", RESIDENT_NUMBER.to_owned()),
        ("CallStatus", "in-progress".to_owned()),
    ];
    if let Some(digits) = digits {
        params.push(("Digits", digits.to_owned()));
    }
    let url = format!("{SMS_PUBLIC_URL}{path}");
    let (status, twiml) = post_signed(server, &path, &url, &params, &params).await?;
    anyhow::ensure!(status == 200, "{status}: {twiml}");
    parse_twiml(&twiml)
}

async fn person(lead: &Client, name: &str) -> anyhow::Result<String> {
    let people = lead
        .data("{ people(first: 100) { nodes { id name } } }", json!({}))
        .await?;
    id_where(&people["people"]["nodes"], "name", name)
}

async fn send_to(lead: &Client, person: &str, body: &str) -> anyhow::Result<Value> {
    let sent = lead
        .data(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id reference } }",
            json!({ "input": { "audience": { "personIds": [person] }, "bodySv": body } }),
        )
        .await?;
    Ok(sent["sendMessage"].clone())
}

const ACKNOWLEDGED: &str =
    "query($id: ID!) { rollCall(messageId: $id) { overall { recipients acknowledged } } }";

const PUBLISH: &str =
    "mutation($input: NoticeInput!) { publishNotice(input: $input) { id current } }";

fn a_notice(first_hotline_hours: &str) -> Value {
    json!({
        "confidentiality": 0,
        "headline": { "sv": "Journalsystemet i hemtjänsten ligger nere", "en": "Home care's records system is down" },
        "body": { "sv": "Besöken görs som vanligt.", "en": "Visits go ahead as usual." },
        "services": [ { "name": { "sv": "Hemtjänstens besök", "en": "Home care visits" }, "state": "WORKING" } ],
        "hotlines": [
            { "name": { "sv": "Hemtjänstens växel", "en": "Home care switchboard" }, "phone": "+46701740690",
              "openingHours": { "sv": first_hotline_hours, "en": first_hotline_hours } },
        ],
    })
}

on_every_database! {
    async fn staff_acknowledge_messages_by_answering_ok(server: sample_municipality_with_sms) {
        let lead = server.sign_in_as("krisledare").await?;
        let linnea = person(&lead, "Linnea Isaksson").await?;
        let first = send_to(&lead, &linnea, "Samling kl 14 i personalrummet").await?;
        let second = send_to(&lead, &linnea, "Ta med papperslistorna").await?;

        let reply = text(&server, LINNEA, "ok", "SM0001").await?;
        assert_eq!(reply, format!("Tack! Meddelande {} är kvitterat.", second["reference"].as_str().unwrap_or_default()));
        let roll_call = lead.data(ACKNOWLEDGED, json!({ "id": second["id"] })).await?;
        assert_eq!(roll_call["rollCall"]["overall"]["acknowledged"], 1, "{roll_call}");
        let roll_call = lead.data(ACKNOWLEDGED, json!({ "id": first["id"] })).await?;
        assert_eq!(roll_call["rollCall"]["overall"]["acknowledged"], 0, "only the latest: {roll_call}");

        let named = format!("OK {}", first["reference"].as_str().unwrap_or_default());
        let reply = text(&server, LINNEA, &named, "SM0002").await?;
        assert!(reply.contains("kvitterat"), "{reply}");
        let roll_call = lead.data(ACKNOWLEDGED, json!({ "id": first["id"] })).await?;
        assert_eq!(roll_call["rollCall"]["overall"]["acknowledged"], 1, "{roll_call}");

        assert_eq!(text(&server, LINNEA, "OK", "SM0003").await?, "Du har inget meddelande som väntar på kvittens.");
        let reply = text(&server, LINNEA, "OK M999999", "SM0004").await?;
        assert!(reply.starts_with("Hittar inget meddelande M999999"), "{reply}");
        // A message to someone else cannot be acknowledged by Linnea.
        let anna = person(&lead, "Anna Berglund").await?;
        let others = send_to(&lead, &anna, "Till Anna").await?;
        let reply = text(&server, LINNEA, &format!("ok {}", others["reference"].as_str().unwrap_or_default()), "SM0005").await?;
        assert!(reply.starts_with("Hittar inget meddelande"), "{reply}");
        Ok(())
    }

    async fn requests_not_signed_by_the_provider_are_refused(server: sample_municipality_with_sms) {
        let store = server.store()?;
        let params = sms(LINNEA, STAFF_NUMBER, "STOP", "SM0100");
        let url = format!("{SMS_PUBLIC_URL}/sms/inbound");
        let before = store.audit_event_count().await?;

        let mut tampered = params.clone();
        tampered[4].1 = "STATUS".into();
        let (status, body) = post_signed(&server, "/sms/inbound", &url, &params, &tampered).await?;
        assert_eq!(status, 403, "a changed body: {body}");
        let other_url = format!("{SMS_PUBLIC_URL}/sms/inbound?x=1");
        let (status, _) = post_signed(&server, "/sms/inbound", &other_url, &params, &params).await?;
        assert_eq!(status, 403, "signed for another URL");
        let unsigned = reqwest::Client::new().post(format!("{}/sms/inbound", server.base_url)).form(&params).send().await?;
        assert_eq!(unsigned.status(), 403);
        let voice = [("CallSid", "CA1".to_owned()), ("Digits", "0".to_owned())];
        let (status, _) = post_signed(&server, "/voice/inbound?menu=sv", &format!("{SMS_PUBLIC_URL}/voice/inbound"), &voice, &voice).await?;
        assert_eq!(status, 403, "the query string is part of what is signed");
        assert_eq!(store.audit_event_count().await?, before + 4, "every refusal is audited");

        // Nothing of the refused STOP was applied: SMS still reach Linnea.
        let lead = server.sign_in_as("krisledare").await?;
        let linnea = person(&lead, "Linnea Isaksson").await?;
        send_to(&lead, &linnea, "Provmeddelande").await?;
        let (base, provider) = a_mock_provider(0).await?;
        let worker = DeliveryWorker::new(store.outbox_worker("sms test"), TwilioClient::new(settings(base))?);
        assert_eq!(worker.run_once().await?, 1);
        assert_eq!(provider.lock().map(|p| p.received.len()).unwrap_or_default(), 1);
        Ok(())
    }

    async fn a_crisis_lead_logs_by_sms_once_per_message(server: sample_municipality_with_sms) {
        let lead = server.sign_in_as("krisledare").await?;
        let incident = report(&lead, "Journalsystemet nere", 1).await?;
        let entry_text = "Strömmen tillbaka på Solgården 14.10";
        let reply = text(&server, ANNA, &format!("LOGG {entry_text}"), "SM0200").await?;
        assert!(reply.starts_with(&format!("Loggat i krisloggen för händelse #{incident} som L")), "{reply}");
        let again = text(&server, ANNA, &format!("LOGG {entry_text}"), "SM0200").await?;
        assert_eq!(again, reply, "the provider's retry gets the same confirmation");

        let log = lead.data(
            "query($id: ID!) { incident(id: $id) { log { id kind text author receivedBySms fromPaper } } }",
            json!({ "id": incident }),
        ).await?;
        let entries: Vec<&Value> = log["incident"]["log"].as_array().into_iter().flatten()
            .filter(|entry| entry["text"] == entry_text).collect();
        assert_eq!(entries.len(), 1, "logged once: {log}");
        assert_eq!(entries[0]["author"], "krisledare");
        assert_eq!(entries[0]["kind"], "OBSERVATION");
        assert_eq!(entries[0]["receivedBySms"], true);
        assert_eq!(entries[0]["fromPaper"], false);
        assert!(reply.ends_with(&format!("L{}.", entries[0]["id"].as_str().unwrap_or_default())), "{reply}");

        let second = report(&lead, "Telefonin nere", 1).await?;
        let reply = text(&server, ANNA, "logg Vem har nyckeln?", "SM0201").await?;
        assert!(reply.contains("flera öppna händelser") && reply.contains(&format!("#{second}")), "{reply}");
        let reply = text(&server, ANNA, &format!("LOGG #{second} Växeln svarar igen"), "SM0202").await?;
        assert!(reply.contains(&format!("händelse #{second}")), "{reply}");

        // A care worker is neither crisis lead nor commander.
        let reply = text(&server, LINNEA, &format!("LOGG #{second} Jag vill logga"), "SM0203").await?;
        assert_eq!(reply, "Bara krisledare och händelsens ledare kan skriva i krisloggen med sms.");
        assert_eq!(text(&server, ANNA, "LOGG", "SM0204").await?, "Skriv LOGG följt av det du vill logga.");
        Ok(())
    }

    async fn stop_holds_back_later_sms_until_start(server: sample_municipality_with_sms) {
        let lead = server.sign_in_as("krisledare").await?;
        let admin = server.sign_in_as("admin").await?;
        let linnea = person(&lead, "Linnea Isaksson").await?;
        let reply = text(&server, LINNEA, "STOP", "SM0300").await?;
        assert_eq!(reply, "Du får inga fler sms från Reserv. Svara START om du vill få sms igen.");
        let held = send_to(&lead, &linnea, "Samling kl 15").await?;

        let store = server.store()?;
        let (base, provider) = a_mock_provider(0).await?;
        let worker = DeliveryWorker::new(store.outbox_worker("sms test"), TwilioClient::new(settings(base))?);
        assert_eq!(worker.run_once().await?, 0, "nothing to send");
        assert_eq!(provider.lock().map(|p| p.received.len()).unwrap_or_default(), 0, "the provider got nothing");
        let roll_call = lead.data("query($id: ID!) { rollCall(messageId: $id) { overall { failed } } }", json!({ "id": held["id"] })).await?;
        assert_eq!(roll_call["rollCall"]["overall"]["failed"], 1, "{roll_call}");
        let trail = admin.data(
            "query($id: ID) { auditEvents(objectType: \"message\", objectId: $id, action: DELIVERY_FAILED) { edges { node { detail } } } }",
            json!({ "id": held["id"] }),
        ).await?;
        assert_eq!(trail["auditEvents"]["edges"][0]["node"]["detail"], reserv_store::OPTED_OUT_REASON, "{trail}");

        assert_eq!(text(&server, LINNEA, "start", "SM0301").await?, "Du får sms från Reserv igen.");
        send_to(&lead, &linnea, "Samling kl 16").await?;
        assert_eq!(worker.run_once().await?, 1);
        let received = provider.lock().map(|p| p.received.clone()).unwrap_or_default();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0]["To"], LINNEA);
        Ok(())
    }

    async fn status_tells_open_incidents_but_never_a_confidential_title(server: sample_municipality_with_sms) {
        let lead = server.sign_in_as("krisledare").await?;
        let internal = report(&lead, "Journalsystemet nere i hemtjänsten", 1).await?;
        report(&lead, "Hot mot personal på Storgatan 4", 2).await?;
        let reply = text(&server, ANNA, "Status", "SM0400").await?;
        assert!(reply.starts_with("Öppna händelser (1):"), "{reply}");
        assert!(reply.contains(&format!("#{internal} Journalsystemet nere i hemtjänsten (rapporterad)")), "{reply}");
        assert!(!reply.contains("Storgatan"), "a confidentiality-2 title went by SMS: {reply}");
        let reply = text(&server, LINNEA, "STATUS", "SM0401").await?;
        assert!(reply.contains("Journalsystemet nere") && !reply.contains("Storgatan"), "{reply}");
        Ok(())
    }

    async fn help_is_in_the_persons_language_and_strangers_learn_nothing(server: sample_municipality_with_sms) {
        let help = text(&server, LINNEA, "hjälp", "SM0500").await?;
        assert!(help.starts_with("Reserv sms: OK = kvittera"), "{help}");
        let help = text(&server, GRACE, "HELP", "SM0501").await?;
        assert!(help.starts_with("Reserv SMS: OK = acknowledge"), "{help}");
        assert_eq!(text(&server, LINNEA, "hej", "SM0502").await?, "Det kommandot känner Reserv inte till. Svara HJÄLP för att se kommandona.");

        let store = server.store()?;
        let before = store.audit_event_count().await?;
        for (body, sid) in [("STATUS", "SM0503"), ("HELP", "SM0504"), ("OK", "SM0505")] {
            assert_eq!(text(&server, UNKNOWN, body, sid).await?, "", "an unknown number gets an empty answer");
        }
        assert_eq!(store.audit_event_count().await?, before + 3, "each is audited");
        Ok(())
    }

    async fn residents_texting_the_information_number_get_the_notice(server: sample_municipality_with_sms) {
        let resident = "+46709999999";
        let reply = text_to(&server, resident, RESIDENT_NUMBER, "INFO", "SM0600").await?;
        assert_eq!(reply, "Inga störningar just nu. Vid fara för liv eller hälsa, ring 112.");
        let communicator = server.sign_in_as("kommunikator").await?;
        communicator.data(PUBLISH, json!({ "input": a_notice("Vardagar 08–17") })).await?;
        // Any text gets the notice, and a staff member's number makes no difference.
        for (from, body, sid) in [(resident, "info", "SM0601"), (ANNA, "Vad händer?", "SM0602")] {
            let reply = text_to(&server, from, RESIDENT_NUMBER, body, sid).await?;
            assert_eq!(
                reply,
                "Journalsystemet i hemtjänsten ligger nere\nRing Hemtjänstens växel: 070-174 06 90 (Vardagar 08-17)"
            );
        }
        Ok(())
    }

    async fn the_phone_line_reads_the_notice_and_puts_callers_through(server: sample_municipality_with_sms) {
        let communicator = server.sign_in_as("kommunikator").await?;
        let published = communicator.data(PUBLISH, json!({ "input": a_notice("Dygnet runt") })).await?;

        let first = call(&server, None, None).await?;
        let gather = at(&first, "Response/Gather");
        assert_eq!(gather.len(), 1, "{first:?}");
        assert_eq!(gather[0].attributes["numDigits"], "1");
        assert_eq!(gather[0].attributes["action"], format!("{SMS_PUBLIC_URL}/voice/inbound?menu=sv"));
        let said = at(&first, "Response/Gather/Say");
        let swedish: Vec<&str> = said.iter().filter(|say| say.attributes["language"] == "sv-SE").map(|say| say.text.as_str()).collect();
        let spoken = swedish.join(" ");
        assert!(spoken.contains("Journalsystemet i hemtjänsten ligger nere."), "{spoken}");
        assert!(spoken.contains("ring noll sju noll, ett sju fyra, noll sex, nio noll"), "{spoken}");
        assert!(spoken.contains("Tryck noll för att ringa hemtjänstens växel."), "{spoken}");
        assert!(said.iter().any(|say| say.attributes["language"] == "en-GB" && say.text.contains("press two")), "{said:?}");
        assert_eq!(at(&first, "Response/Hangup").len(), 1, "a caller who presses nothing is said goodbye to");

        let english = call(&server, Some("sv"), Some("2")).await?;
        let said = at(&english, "Response/Gather/Say");
        assert!(said.iter().all(|say| say.attributes["language"] == "en-GB"), "{said:?}");
        assert!(said.iter().any(|say| say.text.contains("Home care's records system is down.")), "{said:?}");
        assert_eq!(at(&english, "Response/Gather")[0].attributes["action"], format!("{SMS_PUBLIC_URL}/voice/inbound?menu=en"));

        let through = call(&server, Some("sv"), Some("0")).await?;
        assert_eq!(at(&through, "Response/Dial").iter().map(|dial| dial.text.as_str()).collect::<Vec<_>>(), ["+46701740690"]);
        assert!(at(&through, "Response/Say")[0].text.starts_with("Du kopplas nu till hemtjänstens växel"));

        // The switchboard opens two hours from now, Swedish time, for an hour.
        let now = reserv_domain::swedish_time::local(chrono::Utc::now());
        let opens = (now.hour() + 2) % 24;
        let hours = format!("{opens:02}.00–{:02}.00", opens + 1);
        communicator.data(
            "mutation($id: ID!, $input: NoticeInput!) { updateNotice(id: $id, input: $input) { id } }",
            json!({ "id": published["publishNotice"]["id"], "input": a_notice(&hours) }),
        ).await?;
        let closed = call(&server, Some("en"), Some("0")).await?;
        assert!(at(&closed, "Response/Dial").is_empty(), "{closed:?}");
        let said = at(&closed, "Response/Say");
        assert_eq!(said[0].attributes["language"], "en-GB", "the English menu answers in English");
        assert!(said[0].text.starts_with("Home care switchboard is closed now. It opens"), "{}", said[0].text);
        assert!(said[0].text.contains(&format!("at {opens:02}:00")), "{}", said[0].text);
        let closed = call(&server, Some("sv"), Some("0")).await?;
        assert!(at(&closed, "Response/Say")[0].text.contains("är stängd just nu. Den öppnar"), "{closed:?}");
        Ok(())
    }
}
