// Browser tests of the PWA against the real server: `reserv serve --demo` on a fresh
// SQLite file and a free loopback port, driven through Debian's Chromium with
// playwright-core. Screenshots at 360×740 go to $PWA_TEST_OUTPUT (default test-results/).
// Needs PWA_SERVER_BIN (the built `reserv` binary). Every main screen, the server's
// public /status page and the static fallback site are checked with axe-core.
import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createECDH, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';

const output = process.env.PWA_TEST_OUTPUT ?? 'test-results';
mkdirSync(output, { recursive: true });
const binary = process.env.PWA_SERVER_BIN;
assert.ok(binary, 'set PWA_SERVER_BIN to the reserv binary');

const freePort = () => new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

// The server reads every RESERV_* variable as configuration: pass only ours.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('RESERV_')));
const playbooks = new URL('../../playbooks', import.meta.url).pathname;
const servers = [];
/** A demo server on a fresh SQLite file and a free port (or `port`); `config` adds RESERV_* settings. */
async function startServer(config = {}, port = undefined) {
  port ??= await freePort();
  const data = mkdtempSync(join(tmpdir(), 'reserv-pwa-'));
  const serverEnv = { ...env, RESERV_LISTEN: `127.0.0.1:${port}`, RESERV_DATA_DIR: data, RESERV_LOG: 'warn',
    RESERV_PLAYBOOKS_DIR: playbooks, ...config };
  const process_ = spawn(binary, ['serve', '--demo'], { env: serverEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  const server = { base: `http://127.0.0.1:${port}`, data, env: serverEnv, process: process_ };
  servers.push(server);
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${server.base}/healthz`)).ok) break; } catch { /* not yet up */ }
    assert.ok(i < 150, 'the server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return server;
}
const main = await startServer();
const base = main.base;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

async function gql(query, variables = {}, token, at = base) {
  const response = await fetch(`${at}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}
const passwords = { underskoterska: 'Demo-underskoterska-2026', krisledare: 'Demo-krisledare-2026',
  enhetschef: 'Demo-enhetschef-2026', admin: 'Demo-admin-2026', sakerhet: 'Demo-sakerhet-2026', mas: 'Demo-mas-2026',
  'enhetschef-natt': 'Demo-nattpatrull-2026' };
const token = async (username, at = base) =>
  (await gql('mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }',
    { u: username, p: passwords[username] }, undefined, at)).login.token;

/** RFC 6238 TOTP (SHA-1, 30 s, 6 digits) of a base32 secret at `seconds`. */
function totp(secret, seconds = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

// axe-core is injected from its source; the contexts bypass CSP so the inline script runs.
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
async function accessible(tab, label) {
  await tab.addScriptTag({ content: axeSource });
  const { violations } = await tab.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(bad, [], `accessibility of ${label}`);
  figures.axeChecked = (figures.axeChecked ?? 0) + 1;
}

async function page(name, at = base) {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, baseURL: at, bypassCSP: true });
  const tab = await context.newPage();
  tab.on('pageerror', (error) => console.error(`[${name}] page error:`, error.message));
  return { context, tab };
}
async function signIn(tab, username) {
  await tab.goto('/');
  await tab.fill('input[name=username]', username);
  await tab.fill('input[name=password]', passwords[username]);
  await tab.click('button.primary');
  await controlled(tab);
}
// The shell must be under the service worker's control before going offline.
const controlled = (tab) => tab.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 15000 });
/** Does `work` offline, sees it wait in the outbox (screenshot `shotName`), comes back online and waits until it is sent. */
async function offlineThenOnline(context, tab, shotName, work) {
  await context.setOffline(true);
  await work();
  await tab.waitForSelector('[data-testid=outbox-banner]');
  await shot(tab, shotName);
  await context.setOffline(false);
  await outboxEmpty(tab);
}
const outboxEmpty = (tab) => tab.waitForSelector('[data-testid=outbox-banner]', { state: 'detached', timeout: 10000 });
const shot = (tab, name) => tab.screenshot({ path: join(output, `${name}.png`) });

const results = [];
async function test(name, body) {
  const started = Date.now();
  try {
    await body();
    results.push(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push(`FAIL ${name}: ${error.stack ?? error}`);
  }
}
const figures = {};

try {

  await test('a care worker opens a routine, and it still shows offline after a reload', async () => {
    const { context, tab } = await page('care worker');
    await signIn(tab, 'underskoterska');
    await tab.waitForSelector('[data-testid=routine-list] li');
    await shot(tab, 'routines');
    await accessible(tab, 'the routine list');
    // Chromium's own verdict on the manifest, icons and service worker.
    const cdp = await context.newCDPSession(tab);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    await cdp.detach();
    // Playwright's contexts are incognito, where nothing installs; every other reason counts.
    const problems = installabilityErrors.filter((e) => e.errorId !== 'in-incognito');
    assert.deepEqual(problems, [], 'installable in Chromium');
    await tab.fill('input[type=search]', 'dörr');
    await shot(tab, 'routines-search');
    await tab.fill('input[type=search]', '');
    const first = tab.locator('[data-testid=routine-list] li a').first();
    const title = (await first.locator('strong').textContent()).trim();
    await first.click();
    await tab.waitForSelector(`h1:text-is(${JSON.stringify(title)})`);
    await shot(tab, 'routine');
    await accessible(tab, 'a routine');

    await context.setOffline(true);
    await tab.reload();
    await tab.waitForSelector(`h1:text-is(${JSON.stringify(title)})`);
    await tab.waitForSelector('[data-testid=offline-banner]');
    await shot(tab, 'routine-offline');

    // Time to first render of the routine list offline, from navigation start.
    await tab.goto('/#/routines');
    await tab.reload();
    await tab.waitForSelector('[data-testid=routine-list] li');
    figures.offlineRoutineListMs = Math.round(await tab.evaluate(() => performance.now()));
    await context.close();
  });

  await test('a crisis lead writes in the log offline; online, the server has it exactly once', async () => {
    const lead = await token('krisledare');
    const units = (await gql('{ units { id name } }', {}, lead)).units;
    const norr = units.find((u) => u.name === 'Hemtjänst Norr – centrala Norrbyn').id;
    const incident = (await gql(`mutation($input: ReportIncidentInput!) { reportIncident(input: $input) { id } }`, {
      input: { title: 'Dörrlåsen går inte att öppna', kind: 'IT_OUTAGE', severity: 2, unitIds: [norr],
        classification: { confidentiality: 1, integrity: 2, availability: 3 } },
    }, lead)).reportIncident.id;
    figures.incident = incident;

    const { context, tab } = await page('crisis lead');
    await signIn(tab, 'krisledare');
    await tab.goto(`/#/incidents/${incident}`);
    await tab.waitForSelector('textarea[name=text]');
    await shot(tab, 'incident');
    await accessible(tab, 'an incident');
    // Every subscribe the page sends, to wait for the live log to listen again.
    let subscribes = 0;
    tab.on('websocket', (ws) => ws.on('framesent', ({ payload }) => {
      if (String(payload).includes('"subscribe"')) subscribes += 1;
    }));

    await context.setOffline(true);
    const text = `Nyckelkopior hämtade ${Date.now()}`;
    await tab.fill('textarea[name=text]', text);
    await tab.click('form button.primary');
    await tab.waitForSelector('[data-testid=outbox-banner]');
    await shot(tab, 'incident-offline-outbox');
    const before = subscribes;
    await context.setOffline(false);
    await outboxEmpty(tab);

    const log = (await gql('query($id: ID!) { incident(id: $id) { log { text } } }', { id: incident }, lead)).incident.log;
    assert.equal(log.filter((e) => e.text === text).length, 1, JSON.stringify(log));

    // Live: an entry written elsewhere arrives on the open page by subscription.
    // Wait until the page has subscribed again after coming back online; the server may
    // take the subscribe a moment after the frame left, so write again until one arrives.
    for (let i = 0; subscribes === before; i++) {
      assert.ok(i < 100, 'the page did not subscribe again after coming back online');
      await new Promise((r) => setTimeout(r, 100));
    }
    const writer = await token('krisledare');
    let live;
    for (let attempt = 1; ; attempt++) {
      live = `Larmcentralen informerad ${Date.now()}`;
      await gql('mutation($id: ID!, $input: LogEntryInput!) { addLogEntry(incidentId: $id, input: $input) { id } }',
        { id: incident, input: { kind: 'ACTION', text: live } }, writer);
      try {
        await tab.waitForSelector(`[data-testid=crisis-log] >> text=${live}`, { timeout: 3000 });
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
    await shot(tab, 'incident-live');

    // Sign-out clears the device.
    await tab.goto('/#/status');
    await shot(tab, 'status');
    await tab.click('button.danger');
    await tab.waitForSelector('input[name=username]');
    const left = await tab.evaluate(async () => ({
      databases: (await indexedDB.databases()).map((d) => d.name),
      session: localStorage.getItem('reserv.session'),
    }));
    assert.deepEqual(left, { databases: [], session: null });
    await shot(tab, 'signed-out');
    await context.close();
  });

  const norrName = 'Hemtjänst Norr – centrala Norrbyn';
  const unitId = async (lead, name) => (await gql('{ units { id name } }', {}, lead)).units.find((u) => u.name === name).id;

  await test('a care worker acknowledges a crisis message offline; the lead\'s roll-call counts it once', async () => {
    const lead = await token('krisledare');
    const norr = await unitId(lead, norrName);
    const body = `Journalsystemet är nere. Använd pappersjournalen i pärmen. ${Date.now()}`;
    const message = (await gql('mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }',
      { input: { audience: { unitIds: [norr] }, bodySv: body } }, lead)).sendMessage.id;

    const { context, tab } = await page('care worker');
    await signIn(tab, 'underskoterska');
    // Whatever screen is open, a new message is announced and one tap away.
    await tab.click('[data-testid=unread-banner]');
    const card = tab.locator(`[data-message="${message}"]`);
    await card.waitFor();
    await tab.waitForSelector('[data-testid=unread]');
    await shot(tab, 'messages');
    await accessible(tab, 'the messages');

    await offlineThenOnline(context, tab, 'messages-offline-acknowledged', async () => {
      await card.locator('[data-testid=acknowledge]').click();
      await card.locator('[data-testid=acknowledge-pending]').waitFor();
    });
    await card.locator('[data-testid=acknowledged]').waitFor();
    await shot(tab, 'messages-acknowledged');

    const rollCall = 'query($id: ID!) { rollCall(messageId: $id) { overall { recipients acknowledged } notReached { name } } }';
    const counted = (await gql(rollCall, { id: message }, lead)).rollCall;
    assert.equal(counted.overall.acknowledged, 1, JSON.stringify(counted));
    const mine = (await gql('{ myMessages { acknowledgedAt message { id } } }', {}, await token('underskoterska'))).myMessages;
    assert.ok(mine.find((m) => m.message.id === message)?.acknowledgedAt, JSON.stringify(mine));
    await context.close();

    // The crisis lead follows the roll-call live: another acknowledgement shows up by itself.
    const lead_ = await page('crisis lead roll-call');
    await signIn(lead_.tab, 'krisledare');
    await lead_.tab.goto('/#/messages');
    await lead_.tab.locator(`[data-testid=sent-messages] a[href="#/messages/${message}"]`).click();
    await lead_.tab.waitForSelector('[data-testid=count-acknowledged]:text-is("1")');
    await gql('mutation($id: ID!) { acknowledgeMessage(id: $id) { id } }', { id: message }, await token('enhetschef'));
    await lead_.tab.waitForSelector('[data-testid=count-acknowledged]:text-is("2")', { timeout: 15000 });
    const notReached = await lead_.tab.locator('[data-testid=not-reached] li').count();
    assert.equal(notReached, counted.notReached.length - 1, 'the second acknowledgement leaves the not-reached list');
    await shot(lead_.tab, 'roll-call');
    await accessible(lead_.tab, 'the roll-call');
    await lead_.tab.emulateMedia({ colorScheme: 'dark' });
    await shot(lead_.tab, 'roll-call-dark');
    await accessible(lead_.tab, 'the roll-call in dark mode');
    await lead_.context.close();
  });

  await test('a care worker turns on notifications; the server has the subscription, a push shows a notification, Kvittera acknowledges online and offline', async () => {
    const { context, tab } = await page('push');
    await context.grantPermissions(['notifications'], { origin: base });
    // Chromium's own push service is out of reach here, so subscribe() answers with a
    // subscription shaped as a browser's (a real P-256 key and auth secret, a loopback
    // endpoint). The button, the permission, the GraphQL registration and the service
    // worker's push and acknowledge handling below are the app's own.
    const browserKey = createECDH('prime256v1');
    browserKey.generateKeys();
    const fake = { endpoint: `http://127.0.0.1:9/push/${Date.now()}`, p256dh: browserKey.getPublicKey().toString('base64url'),
      auth: randomBytes(16).toString('base64url') };
    await context.addInitScript(({ endpoint, p256dh, auth }) => {
      const subscription = { endpoint, expirationTime: null, getKey: () => null,
        toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh, auth } }),
        unsubscribe: async () => { localStorage.removeItem('test.push'); return true; } };
      PushManager.prototype.subscribe = async function (options) {
        if (!(options?.applicationServerKey instanceof Uint8Array) || options.applicationServerKey.length !== 65) {
          throw new Error('subscribe needs the server key as 65 bytes');
        }
        localStorage.setItem('test.push', '1');
        return subscription;
      };
      PushManager.prototype.getSubscription = async function () { return localStorage.getItem('test.push') ? subscription : null; };
    }, fake);
    await signIn(tab, 'underskoterska');
    await tab.goto('/#/messages');
    await tab.waitForSelector('[data-testid=enable-push]');
    await shot(tab, 'messages-push-offer');
    await tab.click('[data-testid=enable-push]');
    await tab.waitForSelector('[data-testid=push-on]');
    await shot(tab, 'messages-push-on');
    await accessible(tab, 'the messages with notifications on');
    const worker = await token('underskoterska');
    const mine = (await gql('{ myPushSubscriptions { endpoint } }', {}, worker)).myPushSubscriptions;
    assert.deepEqual(mine.map((s) => s.endpoint), [fake.endpoint], 'the server has this browser');

    // A push as the server sends it, delivered to the service worker by Chromium itself.
    const lead = await token('krisledare');
    const linnea = (await gql('{ people(first: 200) { nodes { id name } } }', {}, lead)).people.nodes
      .find((p) => p.name === 'Linnea Isaksson').id;
    const send = async (bodySv) => (await gql('mutation($input: SendMessageInput!) { sendMessage(input: $input) { id reference } }',
      { input: { audience: { personIds: [linnea] }, bodySv } }, lead)).sendMessage;
    const first = await send('Samling i personalrummet kl. 14.');
    const cdp = await context.newCDPSession(tab);
    const registrationId = new Promise((resolve) => cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const found = registrations.find((r) => r.scopeURL.startsWith(base) && !r.isDeleted);
      if (found) resolve(found.registrationId);
    }));
    await cdp.send('ServiceWorker.enable');
    const push = async (message, body) => cdp.send('ServiceWorker.deliverPushMessage', {
      origin: new URL(base).origin, registrationId: await registrationId,
      data: JSON.stringify({ messageId: message.id, reference: message.reference, title: `Krismeddelande ${message.reference}`, body }),
    });
    await push(first, 'Samling i personalrummet kl. 14.');
    const shown = async (tag) => {
      for (let i = 0; i < 50; i++) {
        const found = await tab.evaluate(async (t) => (await (await navigator.serviceWorker.ready).getNotifications({ tag: t }))
          .map((n) => ({ title: n.title, body: n.body, tag: n.tag, actions: (n.actions ?? []).map((a) => a.title) })), tag);
        if (found.length) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      return [];
    };
    assert.deepEqual(await shown(first.id), [{ title: `Krismeddelande ${first.reference}`, body: 'Samling i personalrummet kl. 14.',
      tag: first.id, actions: ['Kvittera'] }]);

    // Kvittera in the notification: the worker acknowledges with the session it was given.
    const acknowledged = async (id) => {
      for (let i = 0; i < 100; i++) {
        const list = (await gql('{ myMessages { acknowledgedAt message { id } } }', {}, worker)).myMessages;
        if (list.find((m) => m.message.id === id)?.acknowledgedAt) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    const kvittera = (id) => tab.evaluate((messageId) =>
      navigator.serviceWorker.ready.then((r) => r.active.postMessage({ type: 'reserv-acknowledge', messageId })), id);
    await kvittera(first.id);
    assert.ok(await acknowledged(first.id), 'acknowledged from the notification');

    // Offline, the acknowledgement waits in the app's outbox and goes when the network is back.
    const second = await send('Ny samling kl. 16.');
    await context.setOffline(true);
    await kvittera(second.id);
    let queued = 0;
    for (let i = 0; i < 50 && !queued; i++) {
      queued = await tab.evaluate(() => new Promise((resolve) => {
        const open = indexedDB.open('reserv');
        open.onsuccess = () => {
          const all = open.result.transaction('outbox').objectStore('outbox').getAll();
          all.onsuccess = () => { resolve(all.result.filter((o) => o.kind === 'acknowledge').length); open.result.close(); };
        };
      }));
      if (!queued) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(queued, 1, 'offline, the acknowledgement waits in the outbox');
    await context.setOffline(false);
    assert.ok(await acknowledged(second.id), 'the queued acknowledgement was sent once online');

    // Signing out removes the browser from the server.
    await tab.goto('/#/status');
    await tab.click('button.danger');
    await tab.waitForSelector('input[name=username]');
    const after = (await gql('{ myPushSubscriptions { endpoint } }', {}, await token('underskoterska'))).myPushSubscriptions;
    assert.deepEqual(after, [], 'sign-out removed the subscription');
    await context.close();
  });

  await test('on an iPhone outside the home screen, the messages screen explains that push needs the home screen and SMS is used', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, baseURL: base, bypassCSP: true,
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1' });
    const tab = await context.newPage();
    await signIn(tab, 'underskoterska');
    await tab.goto('/#/messages');
    const note = await tab.locator('[data-testid=push-home-screen]').textContent();
    assert.match(note, /hemskärmen/);
    assert.match(note, /SMS/);
    assert.equal(await tab.locator('[data-testid=enable-push]').count(), 0, 'no button that cannot work');
    await shot(tab, 'messages-push-iphone');
    await accessible(tab, 'the messages on an iPhone');
    await context.close();
  });

  await test('a care worker ticks two checklist steps offline; online, the server has exactly those ticks once, and an undo', async () => {
    const lead = await token('krisledare');
    const activation = (await gql(`mutation($key: String!) {
      activatePlaybook(playbookId: "it-avbrott-cyberattack", idempotencyKey: $key, exercise: true) {
        incident { id checklistRuns { id routineId phase unit { name } steps { number } } } } }`,
    { key: `pwa-${Date.now()}` }, lead)).activatePlaybook;
    const run = activation.incident.checklistRuns.find((r) => r.unit?.name === norrName && r.phase === 'FALLBACK' && r.steps.length >= 3);
    assert.ok(run, JSON.stringify(activation.incident.checklistRuns.map((r) => [r.unit?.name, r.steps.length])));

    const { context, tab } = await page('care worker');
    await signIn(tab, 'underskoterska');
    await tab.goto(`/#/routines/${run.routineId}`);
    const list = tab.locator(`[data-testid=checklist][data-run="${run.id}"]`);
    await list.waitFor();
    await shot(tab, 'checklist');
    await accessible(tab, 'a checklist');

    await offlineThenOnline(context, tab, 'checklist-offline-ticked', async () => {
      for (const step of [1, 2]) {
        await list.locator(`li[data-step="${step}"] [data-testid=tick]`).click();
        await list.locator(`li[data-step="${step}"] [data-testid=tick-pending]`).waitFor();
      }
    });
    await list.locator('li[data-step="2"] .done:has-text("underskoterska")').waitFor();
    await shot(tab, 'checklist-ticked');

    const runs = (await gql('query($id: ID!) { incident(id: $id) { checklistRuns { id steps { number ticked marks { kind author } } } } }',
      { id: activation.incident.id }, lead)).incident.checklistRuns;
    const steps = runs.find((r) => r.id === run.id).steps;
    const marks = steps.flatMap((s) => s.marks.map((m) => `${s.number}:${m.kind}:${m.author}`));
    assert.deepEqual(marks, ['1:TICK:underskoterska', '2:TICK:underskoterska']);
    assert.deepEqual(steps.filter((s) => s.ticked).map((s) => s.number), [1, 2]);

    // A mistaken tick is undone online; the tick stays in the step's history.
    await list.locator('li[data-step="2"] [data-testid=untick]').click();
    await list.locator('li[data-step="2"] [data-testid=tick]').waitFor();
    await outboxEmpty(tab);
    const after = (await gql('query($id: ID!) { incident(id: $id) { checklistRuns { id steps { number ticked marks { kind } } } } }',
      { id: activation.incident.id }, lead)).incident.checklistRuns.find((r) => r.id === run.id).steps;
    assert.deepEqual(after.slice(0, 2).map((s) => [s.ticked, s.marks.map((m) => m.kind)]), [[true, ['TICK']], [false, ['TICK', 'UNTICK']]]);
    await context.close();
  });

  await test('a care worker reports a problem, online and offline; the crisis lead sees both as incidents', async () => {
    const { context, tab } = await page('care worker');
    await signIn(tab, 'underskoterska');
    await tab.goto('/#/report');
    // The systems come with the device's data; pick the first one listed.
    const first = tab.locator('[data-testid=report] select[name=what] option:not([disabled])').first();
    await tab.waitForFunction(() => document.querySelectorAll('select[name=what] option').length > 2);
    const system = (await first.textContent()).trim();
    await tab.selectOption('select[name=what]', { label: system });
    await tab.locator('.choice:has-text("Allvarligt")').click();
    await shot(tab, 'report');
    await accessible(tab, 'the report form');
    await tab.click('[data-testid=report] button.primary');
    await tab.waitForSelector('[data-testid=report-done] >> text=kommit fram');
    await shot(tab, 'report-sent');

    await tab.click('[data-testid=report-done] button.primary');
    const text = `Dörrlarmet på Norrbyvägen tjuter hela tiden ${Date.now()}`;
    await offlineThenOnline(context, tab, 'report-queued', async () => {
      await tab.selectOption('select[name=what]', 'other');
      await tab.fill('textarea[name=description]', text);
      await tab.click('[data-testid=report] button.primary');
      await tab.waitForSelector('[data-testid=report-done] >> text=sparad i telefonen');
    });
    await context.close();

    const lead = await token('krisledare');
    const incidents = (await gql('{ incidents { nodes { title kind severity reportedBy units { name } systems { name } } } }', {}, lead)).incidents.nodes;
    const online = incidents.filter((i) => i.title === `${system} fungerar inte`);
    assert.equal(online.length, 1, JSON.stringify(incidents.map((i) => i.title)));
    assert.deepEqual([online[0].kind, online[0].severity, online[0].reportedBy, online[0].systems.map((s) => s.name), online[0].units.map((u) => u.name)],
      ['IT_OUTAGE', 2, 'underskoterska', [system], [norrName]]);
    const offline = incidents.filter((i) => i.title === text);
    assert.equal(offline.length, 1, 'the report queued offline arrives once');
    assert.equal(offline[0].kind, 'OTHER');
  });

  await test('public notices show on the status screen, the server\'s /status page and the fallback site', async () => {
    const lead = await token('krisledare');
    const headline = `Hemtjänsten når inte journalen ${Date.now()}`;
    await gql('mutation($input: NoticeInput!) { publishNotice(input: $input) { id } }', { input: {
      confidentiality: 0,
      headline: { sv: headline, en: 'Home care cannot reach its records' },
      body: { sv: 'Besöken blir av som vanligt. Personalen antecknar på papper.', en: 'Visits go ahead as usual.' },
      services: [{ name: { sv: 'Hemtjänst', en: 'Home care' }, state: 'DISRUPTED' }, { name: { sv: 'Trygghetslarm' }, state: 'WORKING' }],
      hotlines: [{ name: { sv: 'Kommunens växel', en: 'Switchboard' }, phone: '+46923650000', openingHours: { sv: 'Dygnet runt', en: 'Around the clock' } }],
    } }, lead);

    const { context, tab } = await page('care worker');
    await signIn(tab, 'underskoterska');
    await tab.goto('/#/status');
    await tab.waitForSelector(`[data-testid=notices] h3:text-is(${JSON.stringify(headline)})`);
    assert.equal(await tab.locator('[data-testid=notices] a[href="tel:+46923650000"]').count(), 1);
    await tab.waitForSelector('[data-testid=notices] >> text=Dygnet runt');
    await shot(tab, 'status-notices');
    await accessible(tab, 'the status screen');
    await tab.emulateMedia({ colorScheme: 'dark' });
    await shot(tab, 'status-notices-dark');
    await accessible(tab, 'the status screen in dark mode');
    await tab.emulateMedia({ colorScheme: 'light' });
    await tab.goto('/#/contacts');
    await tab.waitForSelector('h1');
    await accessible(tab, 'the contacts');
    await tab.goto('/#/incidents');
    await tab.waitForSelector('h1');
    await accessible(tab, 'the incident list');

    await tab.goto('/status');
    await tab.waitForSelector(`text=${headline}`);
    await accessible(tab, "the server's public /status page");
    await shot(tab, 'public-status');

    const site = mkdtempSync(join(tmpdir(), 'reserv-fallback-'));
    execFileSync(binary, ['fallback', 'build', '--out', join(site, 'out')], { env: main.env, stdio: ['ignore', 'ignore', 'inherit'] });
    await tab.goto(pathToFileURL(join(site, 'out', 'index.html')).href);
    await tab.waitForSelector(`text=${headline}`);
    await accessible(tab, 'the static fallback site');
    await shot(tab, 'fallback-site');
    rmSync(site, { recursive: true, force: true });
    await context.close();
  });

  await test('an account with an authenticator app signs in with password and TOTP code', async () => {
    const own = await token('sakerhet');
    const { secret } = (await gql('mutation { beginTotpEnrolment { secret } }', {}, own)).beginTotpEnrolment;
    const codes = (await gql('mutation($code: String!) { confirmTotpEnrolment(code: $code) }', { code: totp(secret) }, own)).confirmTotpEnrolment;
    assert.equal(codes.length, 10);

    const { context, tab } = await page('second factor');
    await tab.goto('/');
    await tab.waitForSelector('input[name=username]');
    await shot(tab, 'sign-in');
    await accessible(tab, 'the sign-in');
    await tab.fill('input[name=username]', 'sakerhet');
    await tab.fill('input[name=password]', passwords.sakerhet);
    await tab.click('button.primary');
    await tab.waitForSelector('[data-testid=code-step]');
    await shot(tab, 'sign-in-code');
    await accessible(tab, 'the code step');
    // The enrolment used this time step's code; the next step's is accepted (one step of drift).
    await tab.fill('input[name=code]', totp(secret, Date.now() / 1000 + 30));
    await tab.click('[data-testid=code-step] button.primary');
    await tab.waitForSelector('[data-testid=routine-list]');
    await controlled(tab);
    const factors = await tab.evaluate(async () => {
      const { token } = JSON.parse(localStorage.getItem('reserv.session'));
      const answer = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { factors } }' }) });
      return (await answer.json()).data.me.factors;
    });
    assert.deepEqual(factors, ['PASSWORD', 'TOTP']);
    await context.close();
  });

  await test('an emergency-code session shows the break-glass banner with its end time', async () => {
    const sheet = (await gql('mutation { issueEmergencyCodes(usernames: ["mas"]) { codes { username code } } }', {}, await token('admin'))).issueEmergencyCodes;
    const { context, tab } = await page('break-glass');
    await tab.goto('/');
    await tab.click('button.link');
    await tab.fill('[data-testid=emergency-step] input[name=username]', 'mas');
    await tab.fill('[data-testid=emergency-step] input[name=code]', sheet.codes[0].code);
    await accessible(tab, 'the emergency sign-in');
    await tab.click('[data-testid=emergency-step] button.primary');
    const banner = tab.locator('[data-testid=break-glass-banner]');
    await banner.waitFor();
    assert.match(await banner.textContent(), /^Nödinloggning — gäller till \d\d:\d\d$/);
    await tab.waitForSelector('[data-testid=routine-list]');
    await shot(tab, 'break-glass');
    await accessible(tab, 'a break-glass session');
    await context.close();
  });

  await test('a role that must have a second factor enrols an authenticator app at first sign-in', async () => {
    const strict = await startServer({ RESERV_LOGIN__REQUIRE_SECOND_FACTOR: 'above_care_worker' });
    const { context, tab } = await page('enrolment', strict.base);
    await tab.goto('/');
    await tab.fill('input[name=username]', 'enhetschef-natt');
    await tab.fill('input[name=password]', passwords['enhetschef-natt']);
    await tab.click('button.primary');
    await tab.waitForSelector('[data-testid=enrol] img.qr');
    await shot(tab, 'enrol');
    await accessible(tab, 'the enrolment');
    const secret = (await tab.textContent('[data-testid=totp-secret]')).trim();
    await tab.fill('[data-testid=enrol] input[name=code]', totp(secret));
    await tab.click('[data-testid=enrol] button.primary');
    await tab.waitForSelector('[data-testid=recovery-codes]');
    assert.equal(await tab.locator('[data-testid=recovery-codes] li').count(), 10);
    // From now on the stored session no longer needs to enrol, codes put away or not.
    assert.equal(await tab.evaluate(() => JSON.parse(localStorage.getItem('reserv.session')).mustEnrol), false);
    await shot(tab, 'enrol-recovery-codes');
    await accessible(tab, 'the recovery codes');
    await tab.click('[data-testid=recovery-codes] button.primary');
    await tab.waitForSelector('[data-testid=routine-list]');
    await context.close();
  });

  await test('a person adds a passkey ("Lägg till nyckel") and signs in with password and passkey', async () => {
    // Passkeys need a secure context and a domain: the page is opened on localhost,
    // the server's default relying party, not on 127.0.0.1.
    const own = await startServer();
    const at = own.base.replace('127.0.0.1', 'localhost');
    const { context, tab } = await page('passkey', at);
    // Chromium's virtual authenticator stands in for the phone's screen lock.
    const devtools = await context.newCDPSession(tab);
    await devtools.send('WebAuthn.enable');
    const { authenticatorId } = await devtools.send('WebAuthn.addVirtualAuthenticator', { options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true } });
    await signIn(tab, 'mas');
    await tab.goto('/#/status');
    await tab.waitForSelector('[data-testid=passkeys]');
    await tab.fill('[data-testid=passkeys] input[name=name]', 'Testtelefon');
    await tab.click('[data-testid=passkeys] button');
    await tab.waitForSelector('[data-testid=passkeys] li:has-text("Testtelefon")');
    await shot(tab, 'passkey-added');
    await accessible(tab, 'the passkeys');
    const { credentials } = await devtools.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1, 'the authenticator holds the new passkey');

    await tab.click('button.danger');
    await tab.waitForSelector('input[name=username]');
    await tab.fill('input[name=username]', 'mas');
    await tab.fill('input[name=password]', passwords.mas);
    await tab.click('button.primary');
    await tab.waitForSelector('[data-testid=use-passkey]');
    await shot(tab, 'sign-in-passkey');
    await accessible(tab, 'the passkey step');
    await tab.click('[data-testid=use-passkey]');
    await tab.waitForSelector('[data-testid=routine-list]');
    const factors = await tab.evaluate(async () => {
      const { token } = JSON.parse(localStorage.getItem('reserv.session'));
      const answer = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { factors } }' }) });
      return (await answer.json()).data.me.factors;
    });
    assert.deepEqual(factors, ['PASSWORD', 'PASSKEY']);
    const after = await devtools.send('WebAuthn.getCredentials', { authenticatorId });
    assert.ok(after.credentials[0].signCount >= 1, 'the passkey signed');
    await context.close();
  });

  await test('a role that must have a second factor may enrol a passkey instead of an app', async () => {
    const strict = await startServer({ RESERV_LOGIN__REQUIRE_SECOND_FACTOR: 'above_care_worker' });
    const { context, tab } = await page('enrol passkey', strict.base.replace('127.0.0.1', 'localhost'));
    const devtools = await context.newCDPSession(tab);
    await devtools.send('WebAuthn.enable');
    await devtools.send('WebAuthn.addVirtualAuthenticator', { options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true } });
    await tab.goto('/');
    await tab.fill('input[name=username]', 'enhetschef');
    await tab.fill('input[name=password]', passwords.enhetschef);
    await tab.click('button.primary');
    await tab.waitForSelector('[data-testid=enrol-passkey]');
    await tab.click('[data-testid=enrol-passkey]');
    await tab.waitForSelector('[data-testid=routine-list]');
    const me = await tab.evaluate(async () => {
      const { token, mustEnrol } = JSON.parse(localStorage.getItem('reserv.session'));
      const answer = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { factors passkeys { name } } }' }) });
      return { mustEnrol, ...(await answer.json()).data.me };
    });
    assert.deepEqual(me, { mustEnrol: false, factors: ['PASSWORD', 'PASSKEY'], passkeys: [{ name: 'Min telefon' }] });
    await context.close();
  });

  await test('a care worker signs in with e-legitimation at the identity provider and lands in the app', async () => {
    // A real OpenID provider (npm oidc-provider), as in the server's own OIDC tests.
    const port = await freePort();
    const providerPort = await freePort();
    const provider = spawn('node', [new URL('../../tests/oidc-provider/server.mjs', import.meta.url).pathname], {
      env: { ...env, OIDC_PORT: String(providerPort), OIDC_CLIENT_ID: 'reserv-pwa', OIDC_CLIENT_SECRET: 'reserv-pwa-test-secret-0123456789',
        OIDC_REDIRECT_URI: `http://127.0.0.1:${port}/auth/oidc/callback` },
      stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = await once(provider.stdout, 'data');
      assert.match(String(line), /^listening/, 'the OpenID provider started');
      const withProvider = await startServer({
        RESERV_OIDC__ISSUER_URL: `http://127.0.0.1:${providerPort}`, RESERV_OIDC__CLIENT_ID: 'reserv-pwa',
        RESERV_OIDC__CLIENT_SECRET: 'reserv-pwa-test-secret-0123456789', RESERV_OIDC__PUBLIC_URL: `http://127.0.0.1:${port}`,
        RESERV_OIDC__CLAIM: 'employee_id', RESERV_OIDC__PERSON_FIELD: 'external_id' }, port);
      // The provider knows the care worker by her employee number.
      const admin = await token('admin', withProvider.base);
      const own = await token('underskoterska', withProvider.base);
      const { id } = (await gql('{ me { person { id } } }', {}, own, withProvider.base)).me.person;
      const { person } = await gql('query($id: ID!) { person(id: $id) { name title phone email language external organisation confidentiality units { id } } }',
        { id }, admin, withProvider.base);
      const { units, ...fields } = person;
      await gql('mutation($id: ID!, $input: PersonInput!) { updatePerson(id: $id, input: $input) { id } }',
        { id, input: { ...fields, externalId: 'E-1001', unitIds: units.map((u) => u.id) } }, admin, withProvider.base);

      const { context, tab } = await page('e-legitimation', withProvider.base);
      await tab.goto('/');
      const button = tab.locator('[data-testid=provider-sign-in]');
      assert.equal(await button.textContent(), 'Logga in med e-legitimation');
      await shot(tab, 'sign-in-provider');
      await accessible(tab, 'the sign-in with a provider');
      await button.click();
      await tab.fill('input[name=login]', 'vardare');
      await tab.click('button');
      await tab.waitForSelector('text=Godkänn');
      await tab.click('button');
      await tab.waitForSelector('[data-testid=routine-list]');
      assert.equal(new URL(tab.url()).search, '', 'the return mark is gone from the address');
      const me = await tab.evaluate(async () => {
        const { token, username } = JSON.parse(localStorage.getItem('reserv.session'));
        const answer = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: '{ me { username factors } }' }) });
        return { stored: username, ...(await answer.json()).data.me };
      });
      assert.deepEqual(me, { stored: 'underskoterska', username: 'underskoterska', factors: ['IDENTITY_PROVIDER'] });
      await context.close();
    } finally {
      provider.kill();
    }
  });
} finally {
  await browser.close();
  for (const server of servers) {
    server.process.kill();
    rmSync(server.data, { recursive: true, force: true });
  }
}

console.log(results.join('\n'));
console.log(`figures: ${JSON.stringify(figures)}`);
if (results.some((r) => r.startsWith('FAIL'))) process.exit(1);
