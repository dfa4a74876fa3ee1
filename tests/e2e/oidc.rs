//! OpenID Connect sign-in against a real provider: `oidc-provider` (npm) started by
//! `tests/oidc-provider/server.mjs` on loopback. A browser is played by a reqwest
//! client with a cookie store that follows no redirects by itself: Reserv's start page
//! sends it to the provider, it fills in the provider's login form (and consent), the
//! provider sends it back to Reserv's callback, and Reserv's session cookie then signs
//! it in as the person the provider's claim names, read from the ID token or, where the
//! token leaves it out, from the userinfo endpoint. Refusals (an unknown person, a
//! tampered or replayed state, too low an assurance for the role, a failing userinfo
//! endpoint, the person cancelling at the provider) and a provider that is down answer
//! a page that says what to do.
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
    child: tokio::process::Child,
}

impl TestProvider {
    /// Starts the provider with one client whose redirect URI is Reserv's callback on
    /// `reserv_port`, and waits until it answers its discovery document.
    async fn start(reserv_port: u16) -> anyhow::Result<Self> {
        Self::start_on(free_port()?, reserv_port).await
    }

    /// Starts the provider listening on `port`.
    async fn start_on(port: u16, reserv_port: u16) -> anyhow::Result<Self> {
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc-provider");
        if !folder.join("node_modules/oidc-provider").is_dir() {
            bail!(
                "the OpenID provider for these tests is not installed: run `npm ci --prefix tests/oidc-provider` (needs node 20 or later)"
            );
        }
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
        Ok(Self { issuer, child })
    }

    /// Stops the provider, as when it goes down with the rest of the IT.
    async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
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
    signing_in_at(server, &provider.issuer, reserv_port, claim, field, adjust).await?;
    Ok(provider)
}

/// Restarts `server` on `reserv_port`, signing in at the provider `issuer` (which need
/// not be running).
async fn signing_in_at(
    server: &mut TestServer,
    issuer: &str,
    reserv_port: u16,
    claim: &str,
    field: PersonField,
    adjust: impl FnOnce(&mut Config),
) -> anyhow::Result<()> {
    let issuer = issuer.to_owned();
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
    Ok(())
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

/// What the person does on the provider's login page.
#[derive(Clone, Copy)]
enum AtProvider<'a> {
    /// Signs in with this login name (and consents).
    SignInAs(&'a str),
    /// Presses "Avbryt".
    Cancel,
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
        self.go_to_provider(return_to, AtProvider::SignInAs(login))
            .await
    }

    /// Starts at Reserv's sign-in button and does `what` at the provider; stops at the
    /// provider's redirect to Reserv's callback.
    async fn go_to_provider(
        &self,
        return_to: &str,
        what: AtProvider<'_>,
    ) -> anyhow::Result<String> {
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
            let actions = form_actions(&body);
            let wanted = match what {
                AtProvider::SignInAs(_) => "/login",
                AtProvider::Cancel => "/abort",
            };
            let action = actions
                .iter()
                .find(|action| action.ends_with(wanted))
                .or(actions.first())
                .with_context(|| format!("no form in {body}"))?;
            let action = page_url.join(action)?.to_string();
            let form: &[(&str, &str)] = match what {
                AtProvider::SignInAs(login) if action.ends_with("/login") => &[("login", login)],
                _ => &[],
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

/// The actions of the forms on a page, in order.
fn form_actions(html: &str) -> Vec<String> {
    html.split("action=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"'))
        .map(|(action, _)| action.replace("&amp;", "&"))
        .collect()
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
    async fn an_hsa_id_given_only_by_userinfo_finds_the_person_and_userinfo_fills_in_the_assurance(server: sample_municipality) {
        let _provider = signing_in_at_a_provider(&mut server, "hsa_id", PersonField::ExternalId, |_| ()).await?;
        a_person_with_an_account(&server, "hedda", "hedda@annan.example", "SE2321000016-H1004", "CARE_WORKER").await?;
        a_person_with_an_account(&server, "vera", "vera@annan.example", "SE2321000016-H1001", "CARE_WORKER").await?;

        // The provider gives the HSA-id only by userinfo, and for this person acr and
        // amr too (her ID token has neither).
        let browser = Browser::new(&server)?;
        let landing = browser.sign_in("hemtjanst", "/").await?;
        assert_eq!(landing.status, 303, "{}", landing.body);
        let me = browser.graphql(ME).await?;
        assert_eq!(me["data"]["me"]["username"], "hedda", "{me}");
        assert_eq!(me["data"]["me"]["acr"], LOA3);
        assert_eq!(me["data"]["me"]["amr"], json!(["pwd", "otp"]));
        assert_eq!(me["data"]["me"]["factors"], json!(["IDENTITY_PROVIDER", "PROVIDER_MFA"]));

        // The ID token's own assurance is kept; the HSA-id still comes from userinfo.
        let browser = Browser::new(&server)?;
        let landing = browser.sign_in("vardare", "/").await?;
        assert_eq!(landing.status, 303, "{}", landing.body);
        let me = browser.graphql(ME).await?;
        assert_eq!(me["data"]["me"]["username"], "vera", "{me}");
        assert_eq!(me["data"]["me"]["acr"], LOA2);
        assert_eq!(me["data"]["me"]["amr"], json!(["pwd"]));

        let audit = oidc_audit(&server).await?;
        assert!(audit.iter().any(|event| event == &format!("SUCCESS: acr {LOA3}; amr pwd,otp")), "{audit:?}");
        assert!(!audit.iter().any(|event| event.contains("SE2321000016")), "claim values stay out of the trail: {audit:?}");
        Ok(())
    }

    async fn a_failing_userinfo_endpoint_refuses_the_sign_in_with_a_page_and_an_audit_event(server: sample_municipality) {
        let _provider = signing_in_at_a_provider(&mut server, "hsa_id", PersonField::ExternalId, |_| ()).await?;
        a_person_with_an_account(&server, "tove", "tove@annan.example", "SE2321000016-H1005", "CARE_WORKER").await?;
        let browser = Browser::new(&server)?;
        let landing = browser.sign_in("trasig", "/").await?;
        assert_eq!(landing.status, 502, "{}", landing.body);
        assert!(landing.location.is_none());
        swedish_then_english(&landing.body, "Dina uppgifter kunde inte hämtas", "Your details could not be fetched")?;
        assert!(landing.body.contains("nödkod") && landing.body.contains("emergency code"), "{}", landing.body);
        let me = browser.graphql(ME).await?;
        assert_eq!(me["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{me}");
        let audit = oidc_audit(&server).await?;
        assert_eq!(audit, ["FAILED: failed: the userinfo endpoint answered 500"], "no session was opened");
        Ok(())
    }

    async fn with_the_provider_down_sign_in_points_to_the_password_and_emergency_code_and_works_once_it_is_back(server: sample_municipality) {
        a_person_with_an_account(&server, "vera", "vardare.oidc@kommun.example", "E-1001", "CARE_WORKER").await?;
        let reserv_port = free_port()?;
        let provider_port = free_port()?;
        let issuer = format!("http://127.0.0.1:{provider_port}");
        // Reserv starts while the provider is down.
        signing_in_at(&mut server, &issuer, reserv_port, "email", PersonField::Email, |_| ()).await?;
        let browser = Browser::new(&server)?;
        for _ in 0..2 {
            let start = browser.http.get(format!("{}/auth/oidc/start", server.base_url)).send().await?;
            assert_eq!(start.status(), 503);
            let body = start.text().await?;
            provider_down_page(&body)?;
        }
        // Password sign-in is not affected.
        server.sign_in_as("admin").await?;

        // The provider comes back: the next sign-in finds it, without a restart.
        let provider = TestProvider::start_on(provider_port, reserv_port).await?;
        let landing = browser.sign_in("vardare", "/").await?;
        assert_eq!(landing.status, 303, "{}", landing.body);
        assert_eq!(browser.graphql(ME).await?["data"]["me"]["username"], "vera");

        // It goes down while a person is at its login page: the callback cannot
        // exchange the code.
        let late = Browser::new(&server)?;
        let callback = late.sign_in_at_provider("vardare", "/").await?;
        provider.stop().await?;
        let landing = late.arrive(&callback).await?;
        assert_eq!(landing.status, 503, "{}", landing.body);
        provider_down_page(&landing.body)?;
        let me = late.graphql(ME).await?;
        assert_eq!(me["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{me}");
        let audit = oidc_audit(&server).await?;
        assert_eq!(
            audit.last().map(String::as_str),
            Some("FAILED: failed: the identity provider's token endpoint could not be reached"),
            "{audit:?}"
        );

        // Back again: that started sign-in is used up, a new one works.
        let _provider = TestProvider::start_on(provider_port, reserv_port).await?;
        let replay = late.arrive(&callback).await?;
        assert_eq!(replay.status, 400, "{}", replay.body);
        let landing = late.sign_in("vardare", "/").await?;
        assert_eq!(landing.status, 303, "{}", landing.body);
        assert_eq!(late.graphql(ME).await?["data"]["me"]["username"], "vera");
        Ok(())
    }

    async fn cancelling_at_the_provider_answers_a_page_saying_so_and_uses_up_the_sign_in(server: sample_municipality) {
        let _provider = signing_in_at_a_provider(&mut server, "email", PersonField::Email, |_| ()).await?;
        a_person_with_an_account(&server, "vera", "vardare.oidc@kommun.example", "E-1001", "CARE_WORKER").await?;
        let browser = Browser::new(&server)?;
        let callback = browser.go_to_provider("/", AtProvider::Cancel).await?;
        let url = reqwest::Url::parse(&callback)?;
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query.get("error").map(String::as_str), Some("access_denied"), "{callback}");
        assert!(query.contains_key("error_description") && query.contains_key("state"), "{callback}");

        let landing = browser.arrive(&callback).await?;
        assert_eq!(landing.status, 403, "{}", landing.body);
        swedish_then_english(&landing.body, "Inloggningen avbröts", "The sign-in was cancelled")?;
        assert!(landing.body.contains("du avbröt den") && landing.body.contains("you cancelled it"), "{}", landing.body);
        assert!(!landing.body.contains("Användaren avbröt"), "the provider's free text is not shown");
        let me = browser.graphql(ME).await?;
        assert_eq!(me["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{me}");

        // The started sign-in is used up.
        let again = browser.arrive(&callback).await?;
        assert_eq!(again.status, 400, "{}", again.body);
        assert!(again.body.contains("Inloggningen har gått ut"), "{}", again.body);
        let audit = oidc_audit(&server).await?;
        assert_eq!(
            audit,
            [
                "DENIED: refused: the identity provider answered access_denied",
                "DENIED: refused: unknown, expired or already used state",
            ]
        );
        Ok(())
    }
}

/// Checks that `body` says `swedish` first and `english` after it.
fn swedish_then_english(body: &str, swedish: &str, english: &str) -> anyhow::Result<()> {
    let sv = body
        .find(swedish)
        .with_context(|| format!("no {swedish:?} in {body}"))?;
    let en = body
        .find(english)
        .with_context(|| format!("no {english:?} in {body}"))?;
    ensure!(sv < en, "Swedish comes first: {body}");
    Ok(())
}

/// Checks the page of a sign-in the provider could not take: not available now, use
/// the password or an emergency code.
fn provider_down_page(body: &str) -> anyhow::Result<()> {
    swedish_then_english(
        body,
        "Inloggning med e-legitimation fungerar inte just nu",
        "Sign-in with the identity provider is not available now",
    )?;
    for words in [
        "lösenord",
        "nödkod",
        "password",
        "emergency code (break-glass)",
    ] {
        ensure!(body.contains(words), "no {words:?} in {body}");
    }
    Ok(())
}
