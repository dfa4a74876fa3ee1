//! The second factor: a person enrols an authenticator app (TOTP) from a QR code, signs
//! in in two steps, cannot replay a code or reuse a recovery code, and wrong codes lock
//! the account like wrong passwords. Roles above care worker must have a second factor
//! when the deployment says so. Codes are made in the test by `totp-rs`, as the
//! person's phone would make them.

use reserv_domain::second_factor::SecondFactorRequirement;
use reserv_tests::{Backend, Client, TestServer, on_every_database};
use serde_json::{Value, json};

const SIGN_IN: &str = "mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { session { token me { username factors } } secondFactor { challenge expiresAt } } }";
const COMPLETE: &str = "mutation($c: String!, $code: String, $recovery: String) { completeSignIn(challenge: $c, code: $code, recoveryCode: $recovery) { token expiresAt me { username factors breakGlass } } }";
const BEGIN: &str = "mutation { beginTotpEnrolment { otpauthUrl qrCodeDataUrl secret } }";
const CONFIRM: &str = "mutation($code: String!) { confirmTotpEnrolment(code: $code) }";
const ME: &str = "{ me { username factors breakGlass mustEnrolSecondFactor secondFactor { totpEnrolled recoveryCodesLeft } } }";

/// Fixtures of this module, found by the `on_every_database!` macro like the shared ones.
trait SecondFactorFixtures: Sized {
    async fn requiring_a_second_factor_above_care_worker(backend: Backend) -> anyhow::Result<Self>;
    async fn allowing_three_failures_per_account(backend: Backend) -> anyhow::Result<Self>;
}

impl SecondFactorFixtures for TestServer {
    async fn requiring_a_second_factor_above_care_worker(backend: Backend) -> anyhow::Result<Self> {
        TestServer::sample_municipality_with(backend, |config| {
            config.login.require_second_factor = Some(SecondFactorRequirement::AboveCareWorker);
        })
        .await
    }

    async fn allowing_three_failures_per_account(backend: Backend) -> anyhow::Result<Self> {
        TestServer::sample_municipality_with(backend, |config| {
            config.login.account_attempts = std::num::NonZeroU32::MIN.saturating_add(2);
        })
        .await
    }
}

/// The authenticator app on the person's phone.
struct Phone(totp_rs::Totp);

impl Phone {
    fn scanning(otpauth_url: &str) -> anyhow::Result<Self> {
        Ok(Self(totp_rs::Totp::from_url(otpauth_url)?))
    }

    /// The code shown `steps` time steps from now (0: the current one).
    fn code(&self, steps: i64) -> String {
        let now = chrono::Utc::now().timestamp() + steps * 30;
        self.0.generate(u64::try_from(now).unwrap_or(0)).to_string()
    }
}

fn code_of(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

/// Enrols an app for `client`'s account; returns the phone and the recovery codes.
async fn enrol(client: &Client) -> anyhow::Result<(Phone, Vec<String>)> {
    let enrolment = client.data(BEGIN, json!({})).await?;
    let url = enrolment["beginTotpEnrolment"]["otpauthUrl"]
        .as_str()
        .unwrap_or_default();
    let phone = Phone::scanning(url)?;
    let codes = client
        .data(CONFIRM, json!({ "code": phone.code(0) }))
        .await?;
    let codes = codes["confirmTotpEnrolment"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    Ok((phone, codes))
}

/// The first step of a sign-in for an account with a second factor: its challenge.
async fn password_step(
    server: &TestServer,
    username: &str,
    password: &str,
) -> anyhow::Result<String> {
    let answer = server
        .anonymous()
        .data(SIGN_IN, json!({ "u": username, "p": password }))
        .await?;
    anyhow::ensure!(
        answer["signIn"]["session"].is_null(),
        "no session before the second factor: {answer}"
    );
    answer["signIn"]["secondFactor"]["challenge"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no challenge in {answer}"))
}

async fn complete(
    server: &TestServer,
    challenge: &str,
    code: Option<&str>,
    recovery: Option<&str>,
) -> anyhow::Result<Value> {
    server
        .anonymous()
        .send(
            COMPLETE,
            json!({ "c": challenge, "code": code, "recovery": recovery }),
        )
        .await
}

on_every_database! {
    async fn a_person_enrols_an_app_and_then_signs_in_in_two_steps(server: sample_municipality) {
        let krisledare = server.sign_in_as("krisledare").await?;
        let enrolment = krisledare.data(BEGIN, json!({})).await?;
        let enrolment = &enrolment["beginTotpEnrolment"];
        let url = enrolment["otpauthUrl"].as_str().unwrap_or_default();
        assert!(url.starts_with("otpauth://totp/Reserv:krisledare?"), "{url}");
        assert!(url.contains("issuer=Reserv"), "{url}");
        let qr = enrolment["qrCodeDataUrl"].as_str().unwrap_or_default();
        assert!(qr.starts_with("data:image/png;base64,iVBOR"), "a PNG as a data URL: {}", &qr[..qr.len().min(40)]);
        let phone = Phone::scanning(url)?;
        assert_eq!(phone.0.secret().to_base32(), enrolment["secret"].as_str().unwrap_or_default());

        // Until confirmed, the password alone still signs in.
        let before = server.anonymous().data(SIGN_IN, json!({ "u": "krisledare", "p": "Demo-krisledare-2026" })).await?;
        assert!(before["signIn"]["session"]["token"].is_string(), "{before}");

        let wrong = krisledare.send(CONFIRM, json!({ "code": "000000" })).await?;
        let wrong_again = krisledare.send(CONFIRM, json!({ "code": "999999" })).await?;
        assert!(code_of(&wrong) == "VALIDATION" || code_of(&wrong_again) == "VALIDATION", "{wrong} {wrong_again}");
        let codes = krisledare.data(CONFIRM, json!({ "code": phone.code(0) })).await?;
        let codes: Vec<&str> = codes["confirmTotpEnrolment"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        assert_eq!(codes.len(), 10, "{codes:?}");
        assert!(codes.iter().all(|code| code.len() == 19), "{codes:?}");
        let me = krisledare.data(ME, json!({})).await?;
        assert_eq!(me["me"]["secondFactor"], json!({ "totpEnrolled": true, "recoveryCodesLeft": 10 }));
        assert_eq!(me["me"]["factors"], json!(["PASSWORD", "TOTP"]), "the enrolling session proved the app: {me}");

        // The old `login` refuses an account with a second factor, saying what to use.
        let (code, message) = server.anonymous().error(
            "mutation { login(username: \"krisledare\", password: \"Demo-krisledare-2026\") { token } }", json!({})).await?;
        assert_eq!(code, "CONFLICT");
        assert!(message.contains("completeSignIn"), "{message}");

        let challenge = password_step(&server, "krisledare", "Demo-krisledare-2026").await?;
        let signed_in = complete(&server, &challenge, Some(&phone.code(1)), None).await?;
        let session = &signed_in["data"]["completeSignIn"];
        assert_eq!(session["me"]["factors"], json!(["PASSWORD", "TOTP"]), "{signed_in}");
        assert_eq!(session["me"]["breakGlass"], false);
        let client = server.anonymous().with_token(session["token"].as_str().unwrap_or_default());
        let sessions = client.data("{ sessions { current factors breakGlass } }", json!({})).await?;
        let current: Vec<&Value> = sessions["sessions"].as_array().into_iter().flatten().filter(|s| s["current"] == true).collect();
        assert_eq!(current.len(), 1, "{sessions}");
        assert_eq!(current[0]["factors"], json!(["PASSWORD", "TOTP"]));
        // A used challenge is gone.
        let again = complete(&server, &challenge, Some(&phone.code(0)), None).await?;
        assert_eq!(code_of(&again), "UNAUTHENTICATED", "{again}");
        Ok(())
    }

    async fn a_code_cannot_be_replayed_and_a_recovery_code_works_once(server: sample_municipality) {
        let chef = server.sign_in_as("enhetschef").await?;
        let (phone, recovery) = enrol(&chef).await?;
        let password = "Demo-enhetschef-2026";

        let code = phone.code(1);
        let challenge = password_step(&server, "enhetschef", password).await?;
        let first = complete(&server, &challenge, Some(&code), None).await?;
        assert!(first["data"]["completeSignIn"]["token"].is_string(), "{first}");

        // Someone who overheard the code tries it within the same time step.
        let challenge = password_step(&server, "enhetschef", password).await?;
        let replayed = complete(&server, &challenge, Some(&code), None).await?;
        assert_eq!(code_of(&replayed), "UNAUTHENTICATED", "a replayed code is refused: {replayed}");
        // So is the code the enrolment was confirmed with, an older step.
        let older = complete(&server, &challenge, Some(&phone.code(0)), None).await?;
        assert_eq!(code_of(&older), "UNAUTHENTICATED", "{older}");

        // The phone is lost: a recovery code signs in once, typed loosely.
        let typed = recovery[0].to_lowercase().replace('-', " ");
        let by_recovery = complete(&server, &challenge, None, Some(&typed)).await?;
        let session = &by_recovery["data"]["completeSignIn"];
        assert_eq!(session["me"]["factors"], json!(["PASSWORD", "RECOVERY_CODE"]), "{by_recovery}");
        let challenge = password_step(&server, "enhetschef", password).await?;
        let reused = complete(&server, &challenge, None, Some(&recovery[0])).await?;
        assert_eq!(code_of(&reused), "UNAUTHENTICATED", "a recovery code works once: {reused}");
        let both = complete(&server, &challenge, Some("123456"), Some(&recovery[1])).await?;
        assert_eq!(code_of(&both), "VALIDATION", "{both}");
        let client = server.anonymous().with_token(session["token"].as_str().unwrap_or_default());
        let me = client.data(ME, json!({})).await?;
        assert_eq!(me["me"]["secondFactor"]["recoveryCodesLeft"], 9, "{me}");

        let admin = server.sign_in_as("admin").await?;
        let events = admin.data(
            "{ auditEvents(objectType: \"account\", first: 200) { edges { node { actor action outcome } } } }", json!({})).await?;
        let actions: Vec<(String, String)> = events["auditEvents"]["edges"].as_array().into_iter().flatten()
            .filter(|edge| edge["node"]["actor"] == "enhetschef")
            .map(|edge| (edge["node"]["action"].as_str().unwrap_or_default().to_owned(), edge["node"]["outcome"].as_str().unwrap_or_default().to_owned()))
            .collect();
        assert!(actions.contains(&("SIGN_IN_RECOVERY_CODE".into(), "SUCCESS".into())), "{actions:?}");
        assert!(actions.iter().filter(|(action, outcome)| action == "SIGN_IN" && outcome == "DENIED").count() >= 3, "{actions:?}");
        Ok(())
    }

    async fn wrong_codes_count_toward_the_lockout(server: allowing_three_failures_per_account) {
        let kommunikator = server.sign_in_as("kommunikator").await?;
        let (phone, _) = enrol(&kommunikator).await?;
        let challenge = password_step(&server, "kommunikator", "Demo-kommunikator-2026").await?;
        for attempt in 1..=3 {
            let wrong = complete(&server, &challenge, Some("000000"), None).await?;
            assert_eq!(code_of(&wrong), "UNAUTHENTICATED", "attempt {attempt}: {wrong}");
            let message = wrong["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.starts_with("Fel kod"), "{message}");
        }
        // Locked now: even the right code, and the right password, wait.
        let locked = complete(&server, &challenge, Some(&phone.code(1)), None).await?;
        assert_eq!(code_of(&locked), "TOO_MANY_ATTEMPTS", "{locked}");
        let password = server.anonymous().send(SIGN_IN, json!({ "u": "kommunikator", "p": "Demo-kommunikator-2026" })).await?;
        assert_eq!(code_of(&password), "TOO_MANY_ATTEMPTS", "{password}");
        Ok(())
    }

    async fn an_app_is_removed_by_its_owner_with_a_code_or_by_an_administrator(server: sample_municipality) {
        let mas = server.sign_in_as("mas").await?;
        let (phone, _) = enrol(&mas).await?;
        let without = mas.send("mutation { removeTotp }", json!({})).await?;
        assert_eq!(code_of(&without), "VALIDATION", "{without}");
        let wrong = mas.send("mutation { removeTotp(code: \"000000\") }", json!({})).await?;
        assert_eq!(code_of(&wrong), "VALIDATION", "{wrong}");
        mas.data("mutation($c: String) { removeTotp(code: $c) }", json!({ "c": phone.code(1) })).await?;
        let me = mas.data(ME, json!({})).await?;
        assert_eq!(me["me"]["secondFactor"], json!({ "totpEnrolled": false, "recoveryCodesLeft": 0 }));

        // Again, and this time the phone is lost: an administrator removes it.
        enrol(&mas).await?;
        let accounts = server.sign_in_as("admin").await?;
        let list = accounts.data("{ accounts(first: 100) { edges { node { id username } } } }", json!({})).await?;
        let nodes: Vec<Value> = list["accounts"]["edges"].as_array().into_iter().flatten().map(|edge| edge["node"].clone()).collect();
        let id = reserv_tests::id_where(&Value::Array(nodes), "username", "mas")?;
        let chef = server.sign_in_as("enhetschef").await?;
        let refused = chef.send("mutation($a: ID) { removeTotp(accountId: $a) }", json!({ "a": id })).await?;
        assert_eq!(code_of(&refused), "FORBIDDEN", "{refused}");
        accounts.data("mutation($a: ID) { removeTotp(accountId: $a) }", json!({ "a": id })).await?;
        let back = server.anonymous().data(SIGN_IN, json!({ "u": "mas", "p": "Demo-mas-2026" })).await?;
        assert!(back["signIn"]["session"]["token"].is_string(), "the password alone signs in again: {back}");
        let events = accounts.data(
            "{ auditEvents(objectType: \"totp\", action: REMOVE, first: 50) { edges { node { actor objectId outcome } } } }", json!({})).await?;
        let removals: Vec<(String, String)> = events["auditEvents"]["edges"].as_array().into_iter().flatten()
            .map(|edge| (edge["node"]["actor"].as_str().unwrap_or_default().to_owned(), edge["node"]["outcome"].as_str().unwrap_or_default().to_owned()))
            .collect();
        assert!(removals.contains(&("mas".into(), "SUCCESS".into())), "{removals:?}");
        assert!(removals.contains(&("admin".into(), "SUCCESS".into())), "{removals:?}");
        assert!(removals.contains(&("enhetschef".into(), "DENIED".into())), "{removals:?}");
        Ok(())
    }

    async fn the_app_secret_is_sealed_with_a_key_outside_the_database(server: sample_municipality) {
        let mas = server.sign_in_as("mas").await?;
        let (phone, _) = enrol(&mas).await?;
        let secret = phone.0.secret().to_base32();
        let stored = server.select_text("SELECT secret FROM totp_credentials").await?;
        assert_eq!(stored.len(), 1, "{stored:?}");
        assert!(stored[0].starts_with("v1:") && !stored[0].contains(&secret), "a dump holds no usable seed");

        // An earlier version kept the seed in plain text: a restart seals it.
        server.execute_sql(&format!("UPDATE totp_credentials SET secret = '{secret}'")).await?;
        server.restart_server(|_| ()).await?;
        let resealed = server.select_text("SELECT secret FROM totp_credentials").await?;
        assert!(resealed[0].starts_with("v1:") && !resealed[0].contains(&secret), "{resealed:?}");

        // Started with another key, the server cannot open the seed: no session, and the
        // sealed value is left as it was for when the right key comes back.
        server.restart_server(|config| config.secret_key = Some("CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=".into())).await?;
        let challenge = password_step(&server, "mas", "Demo-mas-2026").await?;
        let refused = complete(&server, &challenge, Some(&phone.code(1)), None).await?;
        assert!(refused["data"]["completeSignIn"].is_null() && refused["errors"][0].is_object(), "{refused}");
        assert_eq!(server.select_text("SELECT secret FROM totp_credentials").await?, resealed);

        // With its own key back, the resealed seed checks the app's next code. (One
        // more code fits in the clock-drift window after enrolment, so one sign-in.)
        server.restart_server(|config| config.secret_key = None).await?;
        let challenge = password_step(&server, "mas", "Demo-mas-2026").await?;
        let back = complete(&server, &challenge, Some(&phone.code(1)), None).await?;
        assert!(back["data"]["completeSignIn"]["token"].is_string(), "the right key opens it again: {back}");
        Ok(())
    }

    async fn a_role_that_needs_a_second_factor_keeps_its_last_app(server: requiring_a_second_factor_above_care_worker) {
        let chef = server.sign_in_as("enhetschef").await?;
        let (phone, _) = enrol(&chef).await?;
        let (code, message) = chef.error("mutation($c: String) { removeTotp(code: $c) }", json!({ "c": phone.code(1) })).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.contains("sista andra faktor") && message.contains("add another"), "{message}");
        let me = chef.data(ME, json!({})).await?;
        assert_eq!(me["me"]["secondFactor"]["totpEnrolled"], true, "the app is kept: {me}");
        Ok(())
    }

    async fn roles_above_care_worker_must_enrol_before_anything_else(server: requiring_a_second_factor_above_care_worker) {
        // A care worker is not required to, and works as before.
        let care_worker = server.sign_in_as("underskoterska").await?;
        let me = care_worker.data(ME, json!({})).await?;
        assert_eq!(me["me"]["mustEnrolSecondFactor"], false, "{me}");
        care_worker.data("{ units { id } }", json!({})).await?;

        let admin = server.sign_in_as("admin").await?;
        let me = admin.data(ME, json!({})).await?;
        assert_eq!(me["me"]["mustEnrolSecondFactor"], true, "{me}");
        for query in ["{ units { id } }", "{ accounts(first: 5) { edges { node { id } } } }", "{ sessions { id } }"] {
            let (code, message) = admin.error(query, json!({})).await?;
            assert_eq!(code, "FORBIDDEN", "{query}");
            assert!(message.contains("andra faktor") && message.contains("enrol a second factor") || message.contains("second factor"), "{message}");
        }
        let (_, message) = admin.error("{ units { id } }", json!({})).await?;
        assert!(message.contains("beginTotpEnrolment"), "the error says how: {message}");
        // The print route refuses the session too.
        let binder = reqwest::Client::new()
            .get(format!("{}/print/units/1", admin.base_url()))
            .bearer_auth(admin.token().unwrap_or_default())
            .send()
            .await?;
        assert!(binder.status().is_client_error(), "{}", binder.status());

        enrol(&admin).await?;
        let me = admin.data(ME, json!({})).await?;
        assert_eq!(me["me"]["mustEnrolSecondFactor"], false, "{me}");
        admin.data("{ units { id } }", json!({})).await?;
        Ok(())
    }
}

/// Break-glass: sealed one-time emergency codes.
mod break_glass {
    use super::*;

    const ISSUE: &str = "mutation($u: [String!]!) { issueEmergencyCodes(usernames: $u) { issuedAt html codes { username name code } } }";
    const EMERGENCY: &str = "mutation($u: String!, $c: String!) { signInWithEmergencyCode(username: $u, code: $c) { session { token expiresAt me { username factors breakGlass mustEnrolSecondFactor } } smsCode { challenge expiresAt phoneEnding } } }";
    const COMPLETE: &str = "mutation($c: String!, $s: String!) { completeEmergencySignIn(challenge: $c, smsCode: $s) { token me { username factors breakGlass } } }";

    async fn audit_events(admin: &Client, filter: &str) -> anyhow::Result<Vec<Value>> {
        let events = admin
            .data(
                &format!("{{ auditEvents({filter}, first: 200) {{ edges {{ node {{ actor action objectType objectId outcome }} }} }} }}"),
                json!({}),
            )
            .await?;
        Ok(events["auditEvents"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|edge| edge["node"].clone())
            .collect())
    }

    on_every_database! {
        async fn break_glass_lets_a_named_person_in_once_and_tells_every_admin_and_crisis_lead(server: requiring_a_second_factor_above_care_worker) {
            let admin = server.sign_in_as("admin").await?;
            // The administrator's own session must enrol first; then it may issue codes.
            let (code, _) = admin.error(ISSUE, json!({ "u": ["enhetschef"] })).await?;
            assert_eq!(code, "FORBIDDEN");
            enrol(&admin).await?;
            let refused = server.sign_in_as("underskoterska").await?.send(ISSUE, json!({ "u": ["enhetschef"] })).await?;
            assert_eq!(code_of(&refused), "FORBIDDEN", "only administrators issue codes: {refused}");
            let unknown = admin.send(ISSUE, json!({ "u": ["enhetschef", "ingen-alls"] })).await?;
            assert_eq!(code_of(&unknown), "VALIDATION", "{unknown}");
            assert_eq!(unknown["errors"][0]["extensions"]["field"], "usernames[1]", "{unknown}");

            let sheet = admin.data(ISSUE, json!({ "u": ["enhetschef", "underskoterska"] })).await?;
            let sheet = &sheet["issueEmergencyCodes"];
            let html = sheet["html"].as_str().unwrap_or_default();
            let codes: Vec<(String, String)> = sheet["codes"].as_array().into_iter().flatten()
                .map(|slip| (slip["username"].as_str().unwrap_or_default().to_owned(), slip["code"].as_str().unwrap_or_default().to_owned()))
                .collect();
            assert_eq!(codes.len(), 2, "{sheet}");
            for (username, code) in &codes {
                assert!(html.contains(username.as_str()) && html.contains(code.as_str()), "the sheet holds {username}'s slip");
            }
            let swedish = html.find("Använd bara när vanlig inloggning inte fungerar").unwrap_or(usize::MAX);
            let english = html.find("Use only when ordinary sign-in does not work").unwrap_or(0);
            assert!(swedish < english, "instructions in Swedish first, then English");
            assert!(sheet["codes"][0]["name"].is_string(), "the person's name is on the slip: {sheet}");

            // The day the identity provider is down: the unit manager breaks the glass.
            let (_, chef_code) = &codes[0];
            let wrong = server.anonymous().send(EMERGENCY, json!({ "u": "enhetschef", "c": "AAAA-BBBB-CCCC-DDDD" })).await?;
            assert_eq!(code_of(&wrong), "UNAUTHENTICATED", "{wrong}");
            let other = server.anonymous().send(EMERGENCY, json!({ "u": "enhetschef", "c": codes[1].1 })).await?;
            assert_eq!(code_of(&other), "UNAUTHENTICATED", "a code is only its own person's: {other}");
            let signed_in = server.anonymous().data(EMERGENCY, json!({ "u": "enhetschef", "c": chef_code })).await?;
            let session = &signed_in["signInWithEmergencyCode"]["session"];
            assert_eq!(signed_in["signInWithEmergencyCode"]["smsCode"], Value::Null, "without SMS no code is texted: {signed_in}");
            assert_eq!(session["me"]["breakGlass"], true, "{signed_in}");
            assert_eq!(session["me"]["factors"], json!(["EMERGENCY_CODE"]));
            assert_eq!(session["me"]["mustEnrolSecondFactor"], false, "nobody stops to enrol an app on the worst day");
            let expires: chrono::DateTime<chrono::Utc> = session["expiresAt"].as_str().unwrap_or_default().parse()?;
            let left = expires - chrono::Utc::now();
            assert!(left <= chrono::Duration::minutes(120) && left > chrono::Duration::minutes(110), "a short session: {left}");
            let chef = server.anonymous().with_token(session["token"].as_str().unwrap_or_default());
            chef.data("{ units { id } }", json!({})).await?;
            let me = chef.data("{ me { breakGlass } sessions { current breakGlass factors } }", json!({})).await?;
            assert_eq!(me["me"]["breakGlass"], true);
            assert!(me["sessions"].as_array().into_iter().flatten().any(|s| s["current"] == true && s["breakGlass"] == true), "{me}");

            // A used code cannot be used again.
            let reused = server.anonymous().send(EMERGENCY, json!({ "u": "enhetschef", "c": chef_code })).await?;
            assert_eq!(code_of(&reused), "UNAUTHENTICATED", "{reused}");

            // It is loud in the audit trail, and every admin and crisis lead gets a message.
            let events = audit_events(&admin, "action: BREAK_GLASS_SIGN_IN").await?;
            let outcomes: Vec<(&str, &str)> = events.iter().map(|e| (e["actor"].as_str().unwrap_or_default(), e["outcome"].as_str().unwrap_or_default())).collect();
            assert_eq!(outcomes.iter().filter(|o| **o == ("enhetschef", "SUCCESS")).count(), 1, "{outcomes:?}");
            assert_eq!(outcomes.iter().filter(|o| o.1 == "DENIED").count(), 3, "{outcomes:?}");
            let alerts = audit_events(&admin, "objectType: \"message\", action: SEND").await?;
            let alert = alerts.iter().find(|e| e["actor"] == "operator (break-glass alarm)")
                .ok_or_else(|| anyhow::anyhow!("no break-glass message in {alerts:?}"))?;
            let message = admin.data("query($id: ID!) { message(id: $id) { bodySv bodyEn recipientCount } }", json!({ "id": alert["objectId"] })).await?;
            let body = message["message"]["bodySv"].as_str().unwrap_or_default();
            assert!(body.starts_with("NÖDINLOGGNING") && body.contains("enhetschef"), "{body}");
            assert_eq!(message["message"]["recipientCount"], 6, "the administrator and the five crisis leads: {message}");

            // A sheet is lost: the administrator revokes every unused code at once.
            let revoked = admin.data("mutation { revokeEmergencyCodes }", json!({})).await?;
            assert_eq!(revoked["revokeEmergencyCodes"], 1, "the care worker's code was still unused: {revoked}");
            let after = server.anonymous().send(EMERGENCY, json!({ "u": "underskoterska", "c": codes[1].1 })).await?;
            assert_eq!(code_of(&after), "UNAUTHENTICATED", "{after}");
            assert_eq!(audit_events(&admin, "objectType: \"emergency_code\", action: REVOKE_ALL").await?.len(), 1);
            Ok(())
        }
        async fn with_sms_the_emergency_code_needs_the_code_texted_to_the_persons_phone(server: sample_municipality_with_sms) {
            let admin = server.sign_in_as("admin").await?;
            let sheet = admin.data(ISSUE, json!({ "u": ["enhetschef", "underskoterska"] })).await?;
            let code_of_slip = |index: usize| sheet["issueEmergencyCodes"]["codes"][index]["code"].as_str().unwrap_or_default().to_owned();
            let (chef_code, worker_code) = (code_of_slip(0), code_of_slip(1));

            let first = server.anonymous().data(EMERGENCY, json!({ "u": "enhetschef", "c": chef_code })).await?;
            let step = &first["signInWithEmergencyCode"];
            assert_eq!(step["session"], Value::Null, "no session before the SMS code: {first}");
            assert_eq!(step["smsCode"]["phoneEnding"], "13", "Karin Lindqvist's phone ends in 13: {first}");
            let challenge = step["smsCode"]["challenge"].as_str().unwrap_or_default().to_owned();

            // The code goes out through the outbox to her phone; the message record that
            // crisis staff can read says a code was sent, never the code.
            let texts = server.select_text("SELECT body FROM outbox WHERE body LIKE 'Reserv: din kod för nödinloggning%'").await?;
            assert_eq!(texts.len(), 1, "{texts:?}");
            let sms_code: String = texts[0].chars().filter(char::is_ascii_digit).take(6).collect();
            assert_eq!(sms_code.len(), 6, "{texts:?}");
            let destinations = server.select_text("SELECT destination FROM outbox WHERE body LIKE 'Reserv: din kod för nödinloggning%'").await?;
            assert_eq!(destinations, ["+46701740613"]);
            let lead = server.sign_in_as("krisledare").await?;
            let recent = lead.data("{ recentMessages(first: 20) { bodySv sentBy } }", json!({})).await?;
            let record = recent["recentMessages"].as_array().into_iter().flatten()
                .find(|message| message["sentBy"] == "nödinloggning")
                .ok_or_else(|| anyhow::anyhow!("no record of the texted code in {recent}"))?;
            assert!(!record["bodySv"].as_str().unwrap_or_default().contains(&sms_code), "{record}");

            // A wrong code is refused and counts; the right one opens the session.
            let wrong = server.anonymous().send(COMPLETE, json!({ "c": challenge, "s": "000000" })).await?;
            assert_eq!(code_of(&wrong), "UNAUTHENTICATED", "{wrong}");
            let signed_in = server.anonymous().data(COMPLETE, json!({ "c": challenge, "s": sms_code })).await?;
            let me = &signed_in["completeEmergencySignIn"]["me"];
            assert_eq!(me["breakGlass"], true, "{signed_in}");
            assert_eq!(me["factors"], json!(["EMERGENCY_CODE", "SMS_CODE"]));
            let again = server.anonymous().send(COMPLETE, json!({ "c": challenge, "s": sms_code })).await?;
            assert_eq!(code_of(&again), "UNAUTHENTICATED", "a challenge works once: {again}");
            let reused = server.anonymous().send(EMERGENCY, json!({ "u": "enhetschef", "c": chef_code })).await?;
            assert_eq!(code_of(&reused), "UNAUTHENTICATED", "the emergency code is used up: {reused}");

            // A code revoked between the two steps does not open a session.
            let second = server.anonymous().data(EMERGENCY, json!({ "u": "underskoterska", "c": worker_code })).await?;
            let challenge = second["signInWithEmergencyCode"]["smsCode"]["challenge"].as_str().unwrap_or_default().to_owned();
            let texts = server.select_text("SELECT body FROM outbox WHERE body LIKE 'Reserv: din kod för nödinloggning%' AND destination = '+46701740621'").await?;
            let worker_sms: String = texts.first().map(|text| text.chars().filter(char::is_ascii_digit).take(6).collect()).unwrap_or_default();
            admin.data("mutation { revokeEmergencyCodes }", json!({})).await?;
            let late = server.anonymous().send(COMPLETE, json!({ "c": challenge, "s": worker_sms })).await?;
            assert_eq!(code_of(&late), "UNAUTHENTICATED", "{late}");

            let texted = audit_events(&admin, "action: BREAK_GLASS_SMS_CODE").await?;
            assert_eq!(texted.len(), 2, "{texted:?}");
            let opened = audit_events(&admin, "action: BREAK_GLASS_SIGN_IN").await?;
            assert_eq!(opened.iter().filter(|e| e["outcome"] == "SUCCESS").count(), 1, "{opened:?}");
            Ok(())
        }
    }
}
