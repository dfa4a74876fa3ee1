//! OpenID Connect sign-in against a real provider: `oidc-provider` (npm) started by
//! `tests/oidc-provider/server.mjs` on loopback. A browser is played by a reqwest
//! client with a cookie store that follows no redirects by itself: Reserv's start page
//! sends it to the provider, it fills in the provider's login form (and consent), the
//! provider sends it back to Reserv's callback, and Reserv's session cookie then signs
//! it in as the person the provider's claim names. Refusals (an unknown person, a
//! tampered or replayed state, too low an assurance for the role) answer a page that
//! says what to do.
//!
//! Needs `npm ci --prefix tests/oidc-provider` once; the tests fail, with that advice,
//! when it has not been run.

use anyhow::{Context, bail, ensure};
use reserv::Config;
use reserv_domain::access::Role;
use reserv_domain::oidc::PersonField;
use reserv_domain::second_factor::SecondFactorRequirement;
use reserv_tests::{Client, TestServer, free_port, on_every_database};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

const CLIENT_ID: &str = "reserv-test";
const CLIENT_SECRET: &str = "reserv-test-secret-0123456789";
const LOA2: &str = "http://id.elegnamnden.se/loa/1.0/loa2";
const LOA3: &str = "http://id.elegnamnden.se/loa/1.0/loa3";
const ME: &str = "{ me { username factors acr amr mustEnrolSecondFactor person { name } } }";

/// The provider running as a child process; killed when dropped.
struct TestProvider {
    issuer: String,
    _child: tokio::process::Child,
}

impl TestProvider {
    /// Starts the provider with one client whose redirect URI is Reserv's callback on
    /// `reserv_port`, and waits until it answers its discovery document.
    async fn start(reserv_port: u16) -> anyhow::Result<Self> {
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc-provider");
        if !folder.join("node_modules/oidc-provider").is_dir() {
            bail!(
                "the OpenID provider for these tests is not installed: run `npm ci --prefix tests/oidc-provider` (needs node 20 or later)"
            );
        }
        let port = free_port()?;
        let mut child = tokio::process::Command::new("node")
            .arg(folder.join("server.mjs"))
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env(
                "OIDC_REDIRECT_URI",
                format!("http://127.0.0.1:{reserv_port}/auth/oidc/callback"),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start node: is Node.js installed?")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let listening = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                if line.starts_with("listening") {
                    return anyhow::Ok(());
                }
            }
            bail!("the OpenID provider exited before it listened")
        })
        .await
        .context("the OpenID provider did not start within 30 s")?;
        listening?;
        // Keep reading its output so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let issuer = format!("http://127.0.0.1:{port}");
        let discovery = reqwest::get(format!("{issuer}/.well-known/openid-configuration"))
            .await?
            .json::<Value>()
            .await?;
        ensure!(
            discovery["issuer"] == issuer.as_str(),
            "discovery: {discovery}"
        );
        Ok(Self {
            issuer,
            _child: child,
        })
    }
}

/// Starts a provider and restarts `server` signing in at it: the claim `claim` matched
/// to `field`, and `adjust` for the rest.
async fn signing_in_at_a_provider(
    server: &mut TestServer,
    claim: &str,
    field: PersonField,
    adjust: impl FnOnce(&mut Config),
) -> anyhow::Result<TestProvider> {
    let reserv_port = free_port()?;
    let provider = TestProvider::start(reserv_port).await?;
    let issuer = provider.issuer.clone();
    server
        .restart_server(|config| {
            config.listen = ([127, 0, 0, 1], reserv_port).into();
            config.oidc.issuer_url = Some(issuer);
            config.oidc.client_id = Some(CLIENT_ID.into());
            config.oidc.client_secret = Some(CLIENT_SECRET.into());
            config.oidc.public_url = Some(format!("http://127.0.0.1:{reserv_port}"));
            config.oidc.claim = claim.into();
            config.oidc.person_field = field;
            config.oidc.acr_values = vec![LOA3.into(), LOA2.into()];
            adjust(config);
        })
        .await?;
    Ok(provider)
}

/// Adds a person with `email` and `external_id` and an account for them with `role`.
async fn a_person_with_an_account(
    server: &TestServer,
    username: &str,
    email: &str,
    external_id: &str,
    role: &str,
) -> anyhow::Result<Value> {
    let admin = server.sign_in_as("admin").await?;
    let units = admin.data("{ units { id } }", json!({})).await?;
    let unit = units["units"][0]["id"].clone();
    let person = admin
        .data(
            "mutation($input: PersonInput!) { createPerson(input: $input) { id externalId } }",
            json!({ "input": { "name": username, "email": email, "externalId": external_id, "unitIds": [unit] } }),
        )
        .await?;
    ensure!(
        person["createPerson"]["externalId"] == external_id,
        "{person}"
    );
    let unit_scoped = role == "CARE_WORKER" || role == "UNIT_MANAGER";
    let roles = if unit_scoped {
        json!([{ "role": role, "unitId": unit }])
    } else {
        json!([{ "role": role }])
    };
    let account = admin
        .data(
            "mutation($input: AccountInput!) { createAccount(input: $input) { id } }",
            json!({ "input": { "username": username, "personId": person["createPerson"]["id"], "roles": roles } }),
        )
        .await?;
    Ok(account["createAccount"]["id"].clone())
}

/// A browser: keeps cookies, follows no redirects by itself.
struct Browser {
    http: reqwest::Client,
    reserv: String,
}

/// Where a browser's walk through the sign-in ended.
struct Landing {
    /// The last response's status and body (Reserv's page on a refusal).
    status: reqwest::StatusCode,
    body: String,
    /// Where Reserv finally sent the browser, when it did.
    location: Option<String>,
    /// Reserv's callback URL as the provider sent it.
    callback: Option<String>,
}

impl Browser {
    fn new(server: &TestServer) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            reserv: server.base_url.clone(),
        })
    }

    /// Starts at Reserv's sign-in button and signs in at the provider as `login`; stops
    /// at the provider's redirect to Reserv's callback, without following it.
    async fn sign_in_at_provider(&self, login: &str, return_to: &str) -> anyhow::Result<String> {
        let start = self
            .http
            .get(reqwest::Url::parse_with_params(
                &format!("{}/auth/oidc/start", self.reserv),
                [("return_to", return_to)],
            )?)
            .send()
            .await?;
        ensure!(start.status() == 303, "start answered {}", start.status());
        let mut url = location(&start)?;
        ensure!(
            url.contains("code_challenge_method=S256") && url.contains("acr_values="),
            "PKCE S256 and acr_values are asked for: {url}"
        );
        for _ in 0..12 {
            if url.starts_with(&format!("{}/auth/oidc/callback", self.reserv)) {
                return Ok(url);
            }
            let response = self.http.get(&url).send().await?;
            if response.status().is_redirection() {
                url = absolute(&url, &location(&response)?)?;
                continue;
            }
            let page_url = response.url().clone();
            let body = response.text().await?;
            // The provider's own pages: its login form, then (if it asks) consent.
            let action = form_action(&body).with_context(|| format!("no form in {body}"))?;
            let action = page_url.join(&action)?.to_string();
            let form: &[(&str, &str)] = if action.ends_with("/login") {
                &[("login", login)]
            } else {
                &[]
            };
            let submitted = self.http.post(&action).form(form).send().await?;
            ensure!(
                submitted.status().is_redirection(),
                "the provider answered {} to {action}: {}",
                submitted.status(),
                submitted.text().await?
            );
            url = absolute(&action, &location(&submitted)?)?;
        }
        bail!("the provider never sent the browser back to Reserv")
    }

    /// Follows Reserv's callback URL once.
    async fn arrive(&self, callback: &str) -> anyhow::Result<Landing> {
        let response = self.http.get(callback).send().await?;
        let status = response.status();
        let location = response
            .status()
            .is_redirection()
            .then(|| location(&response))
            .transpose()?;
        Ok(Landing {
            status,
            body: response.text().await?,
            location,
            callback: Some(callback.to_owned()),
        })
    }

    /// The whole flow: start, provider, callback.
    async fn sign_in(&self, login: &str, return_to: &str) -> anyhow::Result<Landing> {
        let callback = self.sign_in_at_provider(login, return_to).await?;
        self.arrive(&callback).await
    }

    /// GraphQL as this browser, with its cookies (and the Origin a browser sends).
    async fn graphql(&self, query: &str) -> anyhow::Result<Value> {
        Ok(self
            .http
            .post(format!("{}/graphql", self.reserv))
            .header("Origin", &self.reserv)
            .json(&json!({ "query": query }))
            .send()
            .await?
            .json()
            .await?)
    }
}

fn location(response: &reqwest::Response) -> anyhow::Result<String> {
    Ok(response
        .headers()
        .get(reqwest::header::LOCATION)
        .context("a redirect without Location")?
        .to_str()?
        .to_owned())
}

fn absolute(base: &str, location: &str) -> anyhow::Result<String> {
    Ok(reqwest::Url::parse(base)?.join(location)?.to_string())
}

fn form_action(html: &str) -> Option<String> {
    let start = html.find("action=\"")? + "action=\"".len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].replace("&amp;", "&"))
}

/// The audit events of OIDC sign-ins, newest last, as `outcome: detail`.
async fn oidc_audit(server: &TestServer) -> anyhow::Result<Vec<String>> {
    let admin: Client = server.sign_in_as("admin").await?;
    let events = admin
        .data(
            "{ auditEvents(action: SIGN_IN_OIDC, first: 100) { nodes { outcome detail } } }",
            json!({}),
        )
        .await?;
    Ok(events["auditEvents"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|event| {
            format!(
                "{}: {}",
                event["outcome"].as_str().unwrap_or_default(),
                event["detail"].as_str().unwrap_or_default()
            )
        })
        .collect())
}

on_every_database! {
    async fn a_care_worker_signs_in_at_the_identity_provider_and_reserv_knows_them_by_email(server: sample_municipality) {
        let _provider = signing_in_at_a_provider(&mut server, "email", PersonField::Email, |_| ()).await?;
        // The provider sends the address in other capitals than Reserv keeps it.
        a_person_with_an_account(&server, "vera", "vardare.oidc@kommun.example", "E-1001", "CARE_WORKER").await?;
        let settings = server.anonymous().data("{ clientSettings { oidc { label startPath } } }", json!({})).await?;
        assert_eq!(settings["clientSettings"]["oidc"]["label"], "Logga in med e-legitimation");
        assert_eq!(settings["clientSettings"]["oidc"]["startPath"], "/auth/oidc/start");

        let browser = Browser::new(&server)?;
        let landing = browser.sign_in("vardare", "/incidents?tab=active").await?;
        assert_eq!(landing.status, 303, "{}", landing.body);
        assert_eq!(landing.location.as_deref(), Some("/incidents?tab=active"));
        let me = browser.graphql(ME).await?;
        assert_eq!(me["data"]["me"]["username"], "vera", "{me}");
        assert_eq!(me["data"]["me"]["person"]["name"], "vera");
        assert_eq!(me["data"]["me"]["factors"], json!(["IDENTITY_PROVIDER"]));
        assert_eq!(me["data"]["me"]["acr"], LOA2);
        assert_eq!(me["data"]["me"]["amr"], json!(["pwd"]));
        let sessions = browser.graphql("{ sessions { current factors acr amr } }").await?;
        assert_eq!(sessions["data"]["sessions"][0]["acr"], LOA2, "{sessions}");

        // The code and state are used up: the same callback again is refused.
        let replay = browser.arrive(landing.callback.as_deref().unwrap_or_default()).await?;
        assert_eq!(replay.status, 400);
        assert!(replay.body.contains("Inloggningen har gått ut") && replay.body.contains("Start again from Reserv"), "{}", replay.body);

        let audit = oidc_audit(&server).await?;
        assert!(audit.iter().any(|event| event.starts_with("SUCCESS: acr http://id.elegnamnden.se/loa/1.0/loa2; amr pwd")), "{audit:?}");
        assert!(audit.iter().any(|event| event == "DENIED: refused: unknown, expired or already used state"), "{audit:?}");
        assert!(!audit.iter().any(|event| event.contains("kommun.example")), "claim values stay out of the trail: {audit:?}");
        Ok(())
    }

    async fn an_employee_number_claim_finds_the_person_and_a_multi_factor_sign_in_counts_as_the_second_factor(server: sample_municipality) {
        // Made while the administrator still signs in without a second factor.
        a_person_with_an_account(&server, "kim", "kim@annan.example", "E-1002", "CRISIS_LEAD").await?;
        let _provider = signing_in_at_a_provider(&mut server, "employee_id", PersonField::ExternalId, |config| {
            config.login.require_second_factor = Some(SecondFactorRequirement::AboveCareWorker);
        })
        .await?;
        let browser = Browser::new(&server)?;
        let landing = browser.sign_in("krisledare", "/").await?;
        assert_eq!(landing.location.as_deref(), Some("/"), "{}", landing.body);
        let me = browser.graphql(ME).await?;
        assert_eq!(me["data"]["me"]["username"], "kim", "{me}");
        assert_eq!(me["data"]["me"]["factors"], json!(["IDENTITY_PROVIDER", "PROVIDER_MFA"]));
        assert_eq!(me["data"]["me"]["amr"], json!(["pwd", "otp"]));
        assert_eq!(me["data"]["me"]["mustEnrolSecondFactor"], false);
        // A crisis lead's work is open to this session.
        let incidents = browser.graphql("{ incidents(first: 1) { edges { cursor } } }").await?;
        assert!(incidents["errors"].is_null(), "{incidents}");
        Ok(())
    }

    async fn a_person_reserv_does_not_know_is_refused_with_a_page_saying_what_to_do(server: sample_municipality) {
        let _provider = signing_in_at_a_provider(&mut server, "email", PersonField::Email, |_| ()).await?;
        let browser = Browser::new(&server)?;
        let landing = browser.sign_in("okand", "/").await?;
        assert_eq!(landing.status, 403);
        assert!(landing.body.contains("Du finns inte i Reserv") && landing.body.contains("Ask your manager"), "{}", landing.body);
        assert!(landing.location.is_none());
        let me = browser.graphql(ME).await?;
        assert_eq!(me["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{me}");
        let audit = oidc_audit(&server).await?;
        assert!(audit.contains(&"DENIED: refused: no person with this email".to_owned()), "{audit:?}");

        // A person whose account an administrator disabled is refused too.
        let account = a_person_with_an_account(&server, "vera", "vardare.oidc@kommun.example", "E-1001", "CARE_WORKER").await?;
        server
            .sign_in_as("admin")
            .await?
            .data(
                "mutation($id: ID!) { setAccountDisabled(id: $id, disabled: true) { disabled } }",
                json!({ "id": account }),
            )
            .await?;
        let landing = Browser::new(&server)?.sign_in("vardare", "/").await?;
        assert_eq!(landing.status, 403);
        assert!(landing.body.contains("Kontot är avstängt"), "{}", landing.body);
        Ok(())
    }

    async fn a_tampered_state_or_a_foreign_return_address_is_refused(server: sample_municipality) {
        let _provider = signing_in_at_a_provider(&mut server, "email", PersonField::Email, |_| ()).await?;
        a_person_with_an_account(&server, "vera", "vardare.oidc@kommun.example", "E-1001", "CARE_WORKER").await?;
        let browser = Browser::new(&server)?;
        let foreign = browser
            .http
            .get(reqwest::Url::parse_with_params(
                &format!("{}/auth/oidc/start", server.base_url),
                [("return_to", "//evil.example/")],
            )?)
            .send()
            .await?;
        assert_eq!(foreign.status(), 400);

        let callback = browser.sign_in_at_provider("vardare", "/").await?;
        let mut tampered = reqwest::Url::parse(&callback)?;
        let pairs: Vec<(String, String)> = tampered
            .query_pairs()
            .map(|(key, value)| {
                let value = if key == "state" { format!("{value}x") } else { value.into_owned() };
                (key.into_owned(), value)
            })
            .collect();
        tampered.query_pairs_mut().clear().extend_pairs(pairs);
        let landing = browser.arrive(tampered.as_str()).await?;
        assert_eq!(landing.status, 400, "{}", landing.body);
        assert!(landing.body.contains("Inloggningen har gått ut"));
        let me = browser.graphql(ME).await?;
        assert_eq!(me["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{me}");
        Ok(())
    }

    async fn a_role_requiring_high_assurance_is_refused_after_a_weaker_sign_in(server: sample_municipality) {
        let _provider = signing_in_at_a_provider(&mut server, "email", PersonField::Email, |config| {
            config.oidc.required_acr = vec![LOA3.into()];
            config.oidc.roles_requiring_acr = vec![Role::CrisisLead, Role::Admin];
        })
        .await?;
        a_person_with_an_account(&server, "sam", "krisledare-svag.oidc@kommun.example", "E-1003", "CRISIS_LEAD").await?;
        a_person_with_an_account(&server, "kim", "krisledare.oidc@kommun.example", "E-1002", "CRISIS_LEAD").await?;
        let weak = Browser::new(&server)?;
        let landing = weak.sign_in("krisledare-svag", "/").await?;
        assert_eq!(landing.status, 403, "{}", landing.body);
        assert!(landing.body.contains("Starkare inloggning krävs") && landing.body.contains("crisis_lead"), "{}", landing.body);
        let me = weak.graphql(ME).await?;
        assert_eq!(me["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{me}");

        let strong = Browser::new(&server)?;
        let landing = strong.sign_in("krisledare", "/").await?;
        assert_eq!(landing.status, 303, "{}", landing.body);
        let me = strong.graphql(ME).await?;
        assert_eq!(me["data"]["me"]["acr"], LOA3, "{me}");

        let audit = oidc_audit(&server).await?;
        assert!(
            audit.iter().any(|event| event == &format!("DENIED: refused: the role crisis_lead requires acr {LOA3}; the provider reported {LOA2}")),
            "{audit:?}"
        );
        Ok(())
    }
}
