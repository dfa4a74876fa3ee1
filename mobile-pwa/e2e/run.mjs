// Browser tests of the PWA against the real server: `reserv serve --demo` on a fresh
// SQLite file and a free loopback port, driven through Debian's Chromium with
// playwright-core. Screenshots at 360×740 go to $PWA_TEST_OUTPUT (default test-results/).
// Needs PWA_SERVER_BIN (the built `reserv` binary).
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const data = mkdtempSync(join(tmpdir(), 'reserv-pwa-'));
// The server reads every RESERV_* variable as configuration: pass only ours.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('RESERV_')));
const server = spawn(binary, ['serve', '--demo'], {
  env: { ...env, RESERV_LISTEN: `127.0.0.1:${port}`, RESERV_DATA_DIR: data, RESERV_LOG: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

async function gql(query, variables = {}, token) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}
const passwords = { underskoterska: 'Demo-underskoterska-2026', krisledare: 'Demo-krisledare-2026' };
const token = async (username) =>
  (await gql('mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }',
    { u: username, p: passwords[username] })).login.token;

async function page(name) {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, baseURL: base });
  const tab = await context.newPage();
  tab.on('pageerror', (error) => console.error(`[${name}] page error:`, error.message));
  return { context, tab };
}
async function signIn(tab, username) {
  await tab.goto('/');
  await tab.fill('input[name=username]', username);
  await tab.fill('input[name=password]', passwords[username]);
  await tab.click('button.primary');
  // The shell must be under the service worker's control before going offline.
  await tab.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 15000 });
}
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
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet up */ }
    assert.ok(i < 100, 'the server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }

  await test('a care worker opens a routine, and it still shows offline after a reload', async () => {
    const { context, tab } = await page('care worker');
    await signIn(tab, 'underskoterska');
    await tab.waitForSelector('[data-testid=routine-list] li');
    await shot(tab, 'routines');
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

    await context.setOffline(true);
    const text = `Nyckelkopior hämtade ${Date.now()}`;
    await tab.fill('textarea[name=text]', text);
    await tab.click('form button.primary');
    await tab.waitForSelector('[data-testid=outbox-banner]');
    await shot(tab, 'incident-offline-outbox');
    await context.setOffline(false);
    await tab.waitForSelector('[data-testid=outbox-banner]', { state: 'detached', timeout: 10000 });

    const log = (await gql('query($id: ID!) { incident(id: $id) { log { text } } }', { id: incident }, lead)).incident.log;
    assert.equal(log.filter((e) => e.text === text).length, 1, JSON.stringify(log));

    // Live: an entry written elsewhere arrives on the open page by subscription.
    const live = `Larmcentralen informerad ${Date.now()}`;
    await tab.waitForTimeout(500); // let the subscription start after coming back online
    await gql('mutation($id: ID!, $input: LogEntryInput!) { addLogEntry(incidentId: $id, input: $input) { id } }',
      { id: incident, input: { kind: 'ACTION', text: live } }, await token('krisledare'));
    await tab.waitForSelector(`[data-testid=crisis-log] >> text=${live}`, { timeout: 10000 });
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
} finally {
  await browser.close();
  server.kill();
  rmSync(data, { recursive: true, force: true });
}

console.log(results.join('\n'));
console.log(`figures: ${JSON.stringify(figures)}`);
if (results.some((r) => r.startsWith('FAIL'))) process.exit(1);
