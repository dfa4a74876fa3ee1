// The app's state: the session, the device's data and outbox, the connection, and
// which screen the hash names. Screens live in their feature folders.
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { closeSubscriptions, request, Refused, subscriptions } from './api';
import { strings, type Language } from './i18n';
import { clearDevice, OfflineStore, type OutboxItem } from './offline/store';
import { flushOutbox, oneAtATime, pendingTicks, queueAcknowledgement, queueLogEntry, queueReport, queueTick, queueUntick, Unreachable, type SendOutcome } from './offline/outbox';
import { age, refresh, type Classified, type OfflineData } from './offline/sync';
import { forgetSession, loadSession, saveSession, type Session } from './session/session';
import { SignIn } from './session/SignIn';
import { Enrol } from './session/Enrol';
import { Passkeys } from './session/Passkeys';
import { RoutineDetail, RoutineList, type RoutineView, type RunView } from './routines/Routines';
import { Messages, RollCall, type ReceivedView } from './messages/Messages';
import { Report, type Outcome, type SystemView } from './report/Report';
import type { ReportInput } from './offline/store';
import { clock } from './time';
import { IncidentDetail, IncidentList, type BriefingView, type IncidentView, type LogView, type TaskView } from './incidents/Incidents';
import { Contacts, type ContactView } from './contacts/Contacts';
import { Status, type NoticeView } from './status/Status';
import offlineQuery from './graphql/offline.graphql?raw';
import incidentOps from './graphql/incidents.graphql?raw';
import sessionOps from './graphql/session.graphql?raw';
import messageOps from './graphql/messages.graphql?raw';
import { disablePush, pushEnabled, rememberForWorker } from './messages/push';
import floorOps from './graphql/floor.graphql?raw';
import type { LogEntryKind } from './generated/schema';

interface Data extends OfflineData {
  me: { roles: Array<{ unit: { id: string; name: string } | null }>; person: { units: Array<{ id: string; name: string }> } | null };
  routines: Array<RoutineView & Classified>;
  incidents: { nodes: Array<IncidentView & Classified & { checklistRuns: RunView[] }> };
  myTasks: TaskView[];
  briefings: BriefingView[];
  people: { nodes: Array<ContactView & { confidentiality: number }> };
  myMessages: Array<ReceivedView & { message: Classified }>;
  itSystems: SystemView[];
  publicNotices: NoticeView[];
}

/** How often the device's data is refreshed while the app is open and online. */
const REFRESH_MS = 60_000;

/** Roles that send crisis messages and so follow up their roll-call. */
const SENDERS = ['CRISIS_LEAD', 'COMMUNICATOR', 'ADMIN'];

/** Classification of a report from the floor: internal, until a crisis lead triages it. */
const REPORT_CLASSIFICATION = { confidentiality: 1, integrity: 2, availability: 2 };

/** The units a report can be about: those of the person's roles and of the person. */
function myUnits(data: Data | undefined): Array<{ id: string; name: string }> {
  const all = [...(data?.me.roles ?? []).flatMap((r) => (r.unit ? [r.unit] : [])), ...(data?.me.person?.units ?? [])];
  return all.filter((u, i) => all.findIndex((v) => v.id === u.id) === i);
}

function useHash(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash.replace(/^#\/?/, '').split('/').filter(Boolean);
}

export function App() {
  const [language, setLanguage] = useState<Language>((localStorage.getItem('reserv.language') as Language) ?? 'sv');
  const t = strings(language);
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const [store, setStore] = useState<OfflineStore>();
  const [data, setData] = useState<{ data: Data; savedAt: string; fresh: boolean }>();
  const [outbox, setOutbox] = useState<OutboxItem[]>([]);
  const [online, setOnline] = useState(navigator.onLine);
  const [route] = [useHash()];

  useEffect(() => { document.documentElement.lang = language; }, [language]);

  const signedIn = session?.token;
  useEffect(() => {
    if (!signedIn) return;
    let open: OfflineStore | undefined;
    void OfflineStore.open().then((s) => { open = s; setStore(s); });
    return () => open?.close();
  }, [signedIn]);

  // A browser with push on acknowledges from notifications with the current session.
  useEffect(() => {
    if (!signedIn) return;
    void pushEnabled().then((on) => (on ? rememberForWorker(signedIn) : undefined)).catch(() => undefined);
  }, [signedIn, language]);

  const send = useCallback(async (item: OutboxItem): Promise<SendOutcome> => {
    const token = session?.token;
    try {
      switch (item.kind) {
        case 'logEntry':
          await request(incidentOps, 'AddLogEntry', {
            incidentId: item.incidentId, input: { ...item.input, clientId: item.clientId },
          }, token);
          break;
        case 'acknowledge':
          await request(messageOps, 'AcknowledgeMessage', { id: item.messageId }, token);
          break;
        case 'tick':
          await request(floorOps, 'TickChecklistStep',
            { runId: item.runId, step: item.step, clientId: item.clientId, comment: item.comment ?? null }, token);
          break;
        case 'untick':
          await request(floorOps, 'UntickChecklistStep', { runId: item.runId, step: item.step, clientId: item.clientId }, token);
          break;
        case 'report':
          await request(floorOps, 'ReportIncident', { input: { ...item.input, classification: REPORT_CLASSIFICATION, clientId: item.clientId } }, token);
          break;
      }
      return { ok: true };
    } catch (error) {
      // A lapsed session is not a refusal of the entry: keep it for after sign-in.
      if (error instanceof Refused && error.code !== 'UNAUTHENTICATED' && error.code !== 'INTERNAL') {
        return { ok: false, rejected: error.message };
      }
      throw new Unreachable(String(error));
    }
  }, [session]);

  // On open and whenever the connection returns: send the outbox first, so the fresh
  // data already contains what was written offline.
  const serial = useMemo(oneAtATime, []);
  const sync = useCallback(() => serial(async () => {
    if (!store || !session || session.mustEnrol) return;
    await flushOutbox(store, send);
    setOutbox(await store.outbox());
    try {
      const result = await refresh<Data>(store, async () => {
        const settings = await request<{ clientSettings: { offlineMaxConfidentiality: number } }>(sessionOps, 'ClientSettings');
        const fetched = await request<Data>(offlineQuery, 'OfflineData', {}, session.token);
        return { data: fetched, maxConfidentiality: settings.clientSettings.offlineMaxConfidentiality };
      });
      if (result) setData({ data: result.snapshot.data, savedAt: result.snapshot.savedAt, fresh: result.fresh });
    } catch (error) {
      if (error instanceof Refused && error.code === 'UNAUTHENTICATED') signOut();
    }
  }), [store, session, send, serial]);

  useEffect(() => { void sync(); }, [sync]);
  useEffect(() => {
    const up = () => { setOnline(true); void sync(); };
    const down = () => setOnline(false);
    addEventListener('online', up);
    addEventListener('offline', down);
    return () => { removeEventListener('online', up); removeEventListener('offline', down); };
  }, [sync]);

  // New crisis messages, ticks by colleagues and notices arrive without a reload: refresh
  // while the app is on screen and when it comes back to it.
  useEffect(() => {
    if (!online) return;
    const visible = () => document.visibilityState === 'visible';
    const timer = setInterval(() => { if (visible()) void sync(); }, REFRESH_MS);
    const shown = () => { if (visible()) void sync(); };
    document.addEventListener('visibilitychange', shown);
    return () => { clearInterval(timer); document.removeEventListener('visibilitychange', shown); };
  }, [online, sync]);

  // Live crisis log for the incident on screen.
  const incidentId = route[0] === 'incidents' ? route[1] : undefined;
  useEffect(() => {
    if (!incidentId || !session || !online) return;
    return subscriptions(session.token).subscribe<{ incidentUpdated: { kind: string; logEntry: LogView | null } }>(
      { query: incidentOps, operationName: 'IncidentUpdated', variables: { id: incidentId } },
      {
        next: ({ data: update }) => {
          const entry = update?.incidentUpdated.logEntry;
          if (!entry) return;
          setData((current) => current && {
            ...current,
            data: { ...current.data, incidents: { nodes: current.data.incidents.nodes.map((i) =>
              i.id === incidentId && !i.log.some((e) => e.id === entry.id) ? { ...i, log: [...i.log, entry] } : i) } },
          });
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
  }, [incidentId, session, online]);

  function signIn(next: Session) {
    saveSession(next);
    setSession(next);
  }

  async function signOut() {
    const token = session?.token;
    // Before the session ends: removing the browser's subscription needs it.
    if (token) await disablePush(token).catch(() => undefined);
    closeSubscriptions();
    forgetSession();
    setSession(undefined);
    setData(undefined);
    setOutbox([]);
    await clearDevice(store);
    setStore(undefined);
    if (token) request(sessionOps, 'Logout', {}, token).catch(() => undefined);
    location.hash = '';
  }

  async function writeLog(kind: LogEntryKind, text: string) {
    if (!store || !incidentId) return;
    await queueLogEntry(store, incidentId, { kind, text });
    await sync();
  }

  async function acknowledge(messageId: string) {
    if (!store) return;
    await queueAcknowledgement(store, messageId);
    setOutbox(await store.outbox());
    await sync();
  }

  async function tick(runId: string, step: number, ticked: boolean) {
    if (!store) return;
    await (ticked ? queueTick : queueUntick)(store, runId, step);
    setOutbox(await store.outbox());
    await sync();
  }

  async function report(input: ReportInput): Promise<Outcome> {
    if (!store) return 'queued';
    const item = await queueReport(store, input);
    await sync();
    const left = (await store.outbox()).find((o) => o.clientId === item.clientId);
    return !left ? 'sent' : left.state === 'rejected' ? 'refused' : 'queued';
  }

  // Shown until the person has put the recovery codes away, though the session itself
  // stops needing to enrol the moment the server confirms the app.
  const [enrolling, setEnrolling] = useState(false);
  function enrolled() {
    if (!session) return;
    setEnrolling(true);
    signIn({ ...session, mustEnrol: false });
  }

  async function dismiss(clientId: string) {
    if (!store) return;
    await store.remove(clientId);
    setOutbox(await store.outbox());
  }

  function switchLanguage() {
    const next = language === 'sv' ? 'en' : 'sv';
    localStorage.setItem('reserv.language', next);
    setLanguage(next);
  }

  if (!session) return <main><SignIn t={t} onSignedIn={signIn} /></main>;
  if (session.mustEnrol || enrolling) {
    return <main><Enrol t={t} token={session.token} onEnrolled={enrolled} onDone={() => setEnrolling(false)} onSignOut={signOut} /></main>;
  }

  const ageText = data ? t.dataAge(age(data.savedAt).minutes) : '…';
  const incidents = data?.data.incidents.nodes ?? [];
  const received = data?.data.myMessages ?? [];
  const acknowledging = new Set(outbox.flatMap((o) => (o.kind === 'acknowledge' ? [o.messageId] : [])));
  const unread = received.filter((m) => !m.acknowledgedAt && !acknowledging.has(m.message.id)).length;
  const mayFollowUp = session.roles.some((r) => SENDERS.includes(r));
  let screen;
  if (route[0] === 'incidents') {
    const incident = incidents.find((i) => i.id === route[1]);
    screen = incident
      ? <IncidentDetail t={t} incident={incident} mayWrite={session.roles.includes('CRISIS_LEAD')} onWrite={writeLog}
          queued={outbox.flatMap((o) => (o.kind === 'logEntry' && o.incidentId === incident.id ? [o] : []))} />
      : <IncidentList t={t} incidents={incidents} tasks={data?.data.myTasks ?? []} briefings={data?.data.briefings ?? []} />;
  } else if (route[0] === 'messages') {
    screen = route[1] && mayFollowUp
      ? <RollCall t={t} id={route[1]} token={session.token} online={online} />
      : <Messages t={t} received={received} outbox={outbox} onAcknowledge={acknowledge} mayFollowUp={mayFollowUp}
          token={session.token} online={online} />;
  } else if (route[0] === 'report') {
    screen = <Report t={t} units={myUnits(data?.data)} systems={data?.data.itSystems ?? []} onReport={report} />;
  } else if (route[0] === 'contacts') {
    screen = <Contacts t={t} people={data?.data.people.nodes ?? []} />;
  } else if (route[0] === 'status') {
    screen = <>
      <Status t={t} username={session.username} online={online} ageText={ageText} outbox={outbox}
        notices={data?.data.publicNotices ?? []} onDismiss={dismiss} onLanguage={switchLanguage} onSignOut={signOut} />
      <Passkeys t={t} token={session.token} online={online} />
    </>;
  } else {
    const routine = data?.data.routines.find((r) => r.id === route[1]);
    const runs = incidents.flatMap((i) => i.checklistRuns ?? []).filter((r) => r.routineId === routine?.id);
    screen = routine
      ? <RoutineDetail t={t} routine={routine} runs={runs} pendingTicks={(runId) => pendingTicks(outbox, runId)} onTick={tick} />
      : <RoutineList t={t} routines={data?.data.routines ?? []} />;
  }
  const pending = outbox.filter((o) => o.state === 'pending').length;
  const rejected = outbox.length - pending;
  const tab = route[0] ?? 'routines';
  return (
    <>
      <header class="bar">
        <a href="#/routines" class="brand">{t.appName}</a>
        <span>
          <a href="#/incidents" aria-current={tab === 'incidents' ? 'page' : undefined}>{t.incidents}</a>
          <a href="#/status" aria-current={tab === 'status' ? 'page' : undefined}>{t.status}</a>
        </span>
      </header>
      {session.breakGlass && (
        <div class="banner glass" role="alert" data-testid="break-glass-banner">
          {t.breakGlass(session.expiresAt ? clock(session.expiresAt) : '–')}
        </div>
      )}
      {unread > 0 && tab !== 'messages' && (
        <a class="banner glass" href="#/messages" data-testid="unread-banner">{t.unreadBanner(unread)}</a>
      )}
      {!online && <div class="banner" role="status" data-testid="offline-banner">{t.offline} · {ageText}</div>}
      {(pending > 0 || rejected > 0) && (
        <a class="banner outbox" href="#/status" data-testid="outbox-banner">
          {pending > 0 && t.pending(pending)}{rejected > 0 && ` · ${rejected} ${t.rejected.toLowerCase()}`}
        </a>
      )}
      <main>{screen}</main>
      <nav class="tabs" aria-label={t.appName}>
        {(['routines', 'messages', 'report', 'contacts'] as const).map((name) => (
          <a key={name} href={`#/${name}`} aria-current={tab === name ? 'page' : undefined} class={name === 'report' ? 'report' : undefined}>
            {t.tabs[name]}
            {name === 'messages' && unread > 0 && <span class="badge" aria-label={t.unread(unread)} data-testid="unread">{unread}</span>}
          </a>
        ))}
      </nav>
    </>
  );
}
