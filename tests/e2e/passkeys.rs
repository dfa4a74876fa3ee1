//! Passkeys as a second factor: a person adds a passkey to their account and signs in
//! with password and passkey; an assertion from another authenticator, a replayed
//! assertion or challenge and a copied key's stale counter are refused; a passkey is
//! removed by its owner or an administrator. The passkey is a software authenticator
//! (`webauthn-authenticator-rs`'s `SoftPasskey`) doing the real WebAuthn cryptography
//! over the JSON the server hands a browser.

use reserv_domain::second_factor::SecondFactorRequirement;
use reserv_tests::{Client, TestServer, on_every_database};
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

const SIGN_IN: &str = "mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { session { token } secondFactor { challenge methods } } }";
const BEGIN_ENROLMENT: &str = "mutation { beginPasskeyEnrolment }";
const FINISH_ENROLMENT: &str = "mutation($n: String!, $c: String!) { finishPasskeyEnrolment(name: $n, credential: $c) { id name createdAt lastUsedAt } }";
const BEGIN_SIGN_IN: &str = "mutation($c: String!) { beginPasskeySignIn(challenge: $c) }";
const COMPLETE: &str = "mutation($c: String!, $p: String) { completeSignIn(challenge: $c, passkey: $p) { token me { username factors } } }";
const ME: &str =
    "{ me { factors mustEnrolSecondFactor passkeys { id name createdAt lastUsedAt } } }";

/// A phone's screen lock holding passkeys, as the browser on it would use it.
struct Phone {
    authenticator: SoftPasskey,
    origin: Url,
}

impl Phone {
    /// A phone whose browser has the server's page open on `localhost`.
    fn opening(server: &TestServer) -> anyhow::Result<Self> {
        let port = Url::parse(server.anonymous().base_url())?
            .port()
            .unwrap_or(80);
        Ok(Self {
            // `true`: the phone verifies its owner (a PIN or a fingerprint).
            authenticator: SoftPasskey::new(true),
            origin: Url::parse(&format!("http://localhost:{port}"))?,
        })
    }

    /// `navigator.credentials.create` with the server's options: the credential's JSON.
    fn create(&mut self, options: &str) -> anyhow::Result<String> {
        let options: CreationChallengeResponse = serde_json::from_str(options)?;
        let credential = self
            .authenticator
            .do_registration(self.origin.clone(), options)
            .map_err(|error| anyhow::anyhow!("registration: {error:?}"))?;
        Ok(serde_json::to_string(&credential)?)
    }

    /// `navigator.credentials.get` with the server's options: the assertion's JSON.
    fn get(&mut self, options: &str) -> anyhow::Result<String> {
        let options: RequestChallengeResponse = serde_json::from_str(options)?;
        let assertion = self
            .authenticator
            .do_authentication(self.origin.clone(), options)
            .map_err(|error| anyhow::anyhow!("authentication: {error:?}"))?;
        Ok(serde_json::to_string(&assertion)?)
    }
}

fn code_of(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

/// Adds a passkey on `phone` to `client`'s account; returns the passkey as listed.
async fn enrol(client: &Client, phone: &mut Phone, name: &str) -> anyhow::Result<Value> {
    let options = client.data(BEGIN_ENROLMENT, json!({})).await?;
    let credential = phone.create(
        options["beginPasskeyEnrolment"]
            .as_str()
            .unwrap_or_default(),
    )?;
    let passkey = client
        .data(FINISH_ENROLMENT, json!({ "n": name, "c": credential }))
        .await?;
    Ok(passkey["finishPasskeyEnrolment"].clone())
}

/// The password step: the challenge, after checking that the passkey is offered.
async fn password_step(server: &TestServer, username: &str) -> anyhow::Result<String> {
    let password = format!("Demo-{username}-2026");
    let answer = server
        .anonymous()
        .data(SIGN_IN, json!({ "u": username, "p": password }))
        .await?;
    let methods = &answer["signIn"]["secondFactor"]["methods"];
    anyhow::ensure!(
        methods
            .as_array()
            .is_some_and(|methods| methods.contains(&json!("PASSKEY"))),
        "the challenge offers the passkey: {answer}"
    );
    answer["signIn"]["secondFactor"]["challenge"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no challenge in {answer}"))
}

/// The options for the passkey step of the sign-in `challenge`.
async fn passkey_options(server: &TestServer, challenge: &str) -> anyhow::Result<String> {
    let options = server
        .anonymous()
        .data(BEGIN_SIGN_IN, json!({ "c": challenge }))
        .await?;
    Ok(options["beginPasskeySignIn"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

async fn complete(server: &TestServer, challenge: &str, assertion: &str) -> anyhow::Result<Value> {
    server
        .anonymous()
        .send(COMPLETE, json!({ "c": challenge, "p": assertion }))
        .await
}

async fn audit_events(
    admin: &Client,
    filter: &str,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let events = admin
        .data(
            &format!("{{ auditEvents({filter}, first: 200) {{ edges {{ node {{ actor action outcome }} }} }} }}"),
            json!({}),
        )
        .await?;
    Ok(events["auditEvents"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|edge| {
            let field = |name: &str| edge["node"][name].as_str().unwrap_or_default().to_owned();
            (field("actor"), field("action"), field("outcome"))
        })
        .collect())
}

/// Fixtures of this module, found by the `on_every_database!` macro like the shared ones.
trait PasskeyFixtures: Sized {
    async fn requiring_a_second_factor_above_care_worker(
        backend: reserv_tests::Backend,
    ) -> anyhow::Result<Self>;
}

impl PasskeyFixtures for TestServer {
    async fn requiring_a_second_factor_above_care_worker(
        backend: reserv_tests::Backend,
    ) -> anyhow::Result<Self> {
        TestServer::sample_municipality_with(backend, |config| {
            config.login.require_second_factor = Some(SecondFactorRequirement::AboveCareWorker);
        })
        .await
    }
}

on_every_database! {
    async fn a_person_adds_a_passkey_and_signs_in_with_password_and_passkey(server: requiring_a_second_factor_above_care_worker) {
        let krisledare = server.sign_in_as("krisledare").await?;
        let me = krisledare.data(ME, json!({})).await?;
        assert_eq!(me["me"]["mustEnrolSecondFactor"], true, "{me}");

        // The options are what `navigator.credentials.create` takes, for this server.
        let options = krisledare.data(BEGIN_ENROLMENT, json!({})).await?;
        let options: Value = serde_json::from_str(options["beginPasskeyEnrolment"].as_str().unwrap_or_default())?;
        assert_eq!(options["publicKey"]["rp"]["id"], "localhost", "{options}");
        assert_eq!(options["publicKey"]["rp"]["name"], "Reserv", "{options}");
        assert_eq!(options["publicKey"]["user"]["name"], "krisledare", "{options}");
        assert!(options["publicKey"]["challenge"].as_str().is_some_and(|c| c.len() >= 43), "{options}");

        let mut phone = Phone::opening(&server)?;
        let (code, _) = krisledare.error(FINISH_ENROLMENT, json!({ "n": " ", "c": "{}" })).await?;
        assert_eq!(code, "VALIDATION");
        let passkey = enrol(&krisledare, &mut phone, "Min telefon").await?;
        assert_eq!(passkey["name"], "Min telefon", "{passkey}");
        assert!(passkey["lastUsedAt"].is_null());
        let me = krisledare.data(ME, json!({})).await?;
        assert_eq!(me["me"]["factors"], json!(["PASSWORD", "PASSKEY"]), "the enrolling session proved the passkey: {me}");
        assert_eq!(me["me"]["mustEnrolSecondFactor"], false, "{me}");
        assert_eq!(me["me"]["passkeys"].as_array().map(Vec::len), Some(1), "{me}");
        krisledare.data("{ units { id } }", json!({})).await?;

        // The enrolment's options worked once.
        let (code, _) = krisledare.error(FINISH_ENROLMENT, json!({ "n": "Igen", "c": phone.create(&serde_json::to_string(&options)?)? })).await?;
        assert_eq!(code, "CONFLICT", "a used enrolment cannot be finished again");

        // Password, then passkey.
        let challenge = password_step(&server, "krisledare").await?;
        let assertion = phone.get(&passkey_options(&server, &challenge).await?)?;
        let signed_in = complete(&server, &challenge, &assertion).await?;
        let session = &signed_in["data"]["completeSignIn"];
        assert_eq!(session["me"]["factors"], json!(["PASSWORD", "PASSKEY"]), "{signed_in}");
        let client = server.anonymous().with_token(session["token"].as_str().unwrap_or_default());
        let sessions = client.data("{ sessions { current factors } }", json!({})).await?;
        assert!(sessions["sessions"].as_array().into_iter().flatten()
            .any(|s| s["current"] == true && s["factors"] == json!(["PASSWORD", "PASSKEY"])), "{sessions}");
        let me = client.data(ME, json!({})).await?;
        assert!(me["me"]["passkeys"][0]["lastUsedAt"].is_string(), "{me}");

        // The challenge and its assertion worked once.
        let replayed = complete(&server, &challenge, &assertion).await?;
        assert_eq!(code_of(&replayed), "UNAUTHENTICATED", "a used challenge is gone: {replayed}");
        let fresh = password_step(&server, "krisledare").await?;
        passkey_options(&server, &fresh).await?;
        let replayed = complete(&server, &fresh, &assertion).await?;
        assert_eq!(code_of(&replayed), "UNAUTHENTICATED", "an old assertion does not sign a new challenge: {replayed}");
        let message = replayed["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("Nyckeln godtogs inte"), "{message}");
        // The failed attempt used up that challenge's options.
        let after = complete(&server, &fresh, &phone.get(&passkey_options(&server, &fresh).await?)?).await?;
        assert!(after["data"]["completeSignIn"]["token"].is_string(), "new options, a new assertion: {after}");

        let admin = server.sign_in_as("admin").await?;
        let mut admin_phone = Phone::opening(&server)?;
        enrol(&admin, &mut admin_phone, "Säkerhetsnyckel").await?;
        let events = audit_events(&admin, "objectType: \"account\"").await?;
        let mine = |action: &str, outcome: &str| events.iter().filter(|(actor, a, o)| actor == "krisledare" && a == action && o == outcome).count();
        assert_eq!(mine("SIGN_IN_PASSKEY", "SUCCESS"), 2, "{events:?}");
        assert_eq!(mine("SIGN_IN_PASSKEY", "DENIED"), 1, "{events:?}");
        let enrolments = audit_events(&admin, "objectType: \"passkey\"").await?;
        assert!(enrolments.contains(&("krisledare".into(), "ENROL".into(), "SUCCESS".into())), "{enrolments:?}");
        assert!(enrolments.contains(&("krisledare".into(), "ENROL".into(), "FAILED".into())), "{enrolments:?}");
        Ok(())
    }

    async fn the_last_second_factor_stays_while_the_role_needs_one(server: requiring_a_second_factor_above_care_worker) {
        let chef = server.sign_in_as("enhetschef").await?;
        let first = enrol(&chef, &mut Phone::opening(&server)?, "Telefon").await?;
        let second = enrol(&chef, &mut Phone::opening(&server)?, "Nyckel").await?;
        let remove = "mutation($id: ID!) { removePasskey(id: $id) }";
        chef.data(remove, json!({ "id": first["id"] })).await?;
        let (code, message) = chef.error(remove, json!({ "id": second["id"] })).await?;
        assert_eq!(code, "VALIDATION", "{message}");
        assert!(message.contains("sista andra faktor") && message.contains("add another"), "{message}");
        let me = chef.data(ME, json!({})).await?;
        assert_eq!(me["me"]["passkeys"].as_array().map(Vec::len), Some(1), "the last one is kept: {me}");

        // A lost phone: an administrator may still take it away, and the person enrols anew
        // at the next sign-in.
        let admin = server.sign_in_as("admin").await?;
        let mut admin_phone = Phone::opening(&server)?;
        enrol(&admin, &mut admin_phone, "Säkerhetsnyckel").await?;
        admin.data(remove, json!({ "id": second["id"] })).await?;
        let again = server.sign_in_as("enhetschef").await?;
        let me = again.data(ME, json!({})).await?;
        assert_eq!(me["me"]["mustEnrolSecondFactor"], true, "{me}");
        Ok(())
    }

    async fn another_authenticator_and_a_copied_key_are_refused(server: sample_municipality) {
        let chef = server.sign_in_as("enhetschef").await?;
        let mut phone = Phone::opening(&server)?;
        enrol(&chef, &mut phone, "Telefon").await?;

        // A passkey of someone else's account signs the options: not this account's.
        let mas = server.sign_in_as("mas").await?;
        let mut other_phone = Phone::opening(&server)?;
        enrol(&mas, &mut other_phone, "Annan telefon").await?;
        let challenge = password_step(&server, "enhetschef").await?;
        let options = passkey_options(&server, &challenge).await?;
        let mut options_for_other: Value = serde_json::from_str(&options)?;
        // The other phone is told to use its own key, as a tampered page would.
        let other_options = passkey_options(&server, &password_step(&server, "mas").await?).await?;
        let other_options: Value = serde_json::from_str(&other_options)?;
        options_for_other["publicKey"]["allowCredentials"] = other_options["publicKey"]["allowCredentials"].clone();
        let foreign = other_phone.get(&options_for_other.to_string())?;
        let refused = complete(&server, &challenge, &foreign).await?;
        assert_eq!(code_of(&refused), "UNAUTHENTICATED", "{refused}");
        let malformed = complete(&server, &password_step(&server, "enhetschef").await?, "{\"id\": 1}").await?;
        assert_eq!(code_of(&malformed), "UNAUTHENTICATED", "{malformed}");

        // A copy of the key: an assertion made earlier, kept back while the owner signed
        // in since, carries a counter that did not grow.
        let kept_challenge = password_step(&server, "enhetschef").await?;
        let kept = phone.get(&passkey_options(&server, &kept_challenge).await?)?;
        let challenge = password_step(&server, "enhetschef").await?;
        let owner = complete(&server, &challenge, &phone.get(&passkey_options(&server, &challenge).await?)?).await?;
        assert!(owner["data"]["completeSignIn"]["token"].is_string(), "{owner}");
        let copied = complete(&server, &kept_challenge, &kept).await?;
        assert_eq!(code_of(&copied), "UNAUTHENTICATED", "a stale counter is refused: {copied}");

        // Without options asked for, there is nothing to answer.
        let challenge = password_step(&server, "enhetschef").await?;
        let unasked = complete(&server, &challenge, &kept).await?;
        assert_eq!(code_of(&unasked), "UNAUTHENTICATED", "{unasked}");
        Ok(())
    }

    async fn wrong_assertions_count_toward_the_lockout(server: sample_municipality) {
        let kommunikator = server.sign_in_as("kommunikator").await?;
        let mut phone = Phone::opening(&server)?;
        enrol(&kommunikator, &mut phone, "Telefon").await?;
        let challenge = password_step(&server, "kommunikator").await?;
        // The default allows five failures per account.
        for attempt in 1..=5 {
            let wrong = complete(&server, &challenge, "{}").await?;
            assert_eq!(code_of(&wrong), "UNAUTHENTICATED", "attempt {attempt}: {wrong}");
        }
        let locked = complete(&server, &challenge, &phone.get(&passkey_options(&server, &challenge).await?)?).await?;
        assert_eq!(code_of(&locked), "TOO_MANY_ATTEMPTS", "{locked}");
        Ok(())
    }

    async fn a_passkey_is_removed_by_its_owner_or_an_administrator(server: sample_municipality) {
        let mas = server.sign_in_as("mas").await?;
        let mut phone = Phone::opening(&server)?;
        let first = enrol(&mas, &mut phone, "Telefon").await?;
        let second = enrol(&mas, &mut Phone::opening(&server)?, "Nyckel").await?;
        let (code, _) = mas.error(FINISH_ENROLMENT, json!({ "n": "Igen", "c": "{}" })).await?;
        assert_eq!(code, "CONFLICT", "no enrolment in progress");

        let chef = server.sign_in_as("enhetschef").await?;
        let (code, _) = chef.error("mutation($id: ID!) { removePasskey(id: $id) }", json!({ "id": first["id"] })).await?;
        assert_eq!(code, "FORBIDDEN", "not someone else's");
        let (code, _) = chef.error("mutation { removePasskey(id: \"99999\") }", json!({})).await?;
        assert_eq!(code, "FORBIDDEN", "nor guessing at ids");

        // A sign-in under way when the passkey is removed: its options still name it.
        let challenge = password_step(&server, "mas").await?;
        let assertion = phone.get(&passkey_options(&server, &challenge).await?)?;
        mas.data("mutation($id: ID!) { removePasskey(id: $id) }", json!({ "id": first["id"] })).await?;
        let me = mas.data(ME, json!({})).await?;
        assert_eq!(me["me"]["passkeys"].as_array().map(Vec::len), Some(1), "{me}");
        assert_eq!(me["me"]["passkeys"][0]["name"], "Nyckel");
        let removed = complete(&server, &challenge, &assertion).await?;
        assert_eq!(code_of(&removed), "UNAUTHENTICATED", "the removed passkey is refused: {removed}");

        let admin = server.sign_in_as("admin").await?;
        admin.data("mutation($id: ID!) { removePasskey(id: $id) }", json!({ "id": second["id"] })).await?;
        let back = server.anonymous().data(SIGN_IN, json!({ "u": "mas", "p": "Demo-mas-2026" })).await?;
        assert!(back["signIn"]["session"]["token"].is_string(), "the password alone signs in again: {back}");
        let removals = audit_events(&admin, "objectType: \"passkey\", action: REMOVE").await?;
        for (actor, outcome) in [("mas", "SUCCESS"), ("admin", "SUCCESS"), ("enhetschef", "DENIED")] {
            assert!(removals.contains(&(actor.into(), "REMOVE".into(), outcome.into())), "{actor} {outcome}: {removals:?}");
        }
        Ok(())
    }
}
