// The app's state: the session, the device's data and outbox, the connection, and
// which screen the hash names. Screens live in their feature folders.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { closeSubscriptions, request, Refused, subscriptions } from './api';
import { strings, type Language } from './i18n';
import { clearDevice, OfflineStore, type OutboxItem } from './offline/store';
import { flushOutbox, queueLogEntry, Unreachable, type SendOutcome } from './offline/outbox';
import { age, refresh, type Classified, type OfflineData } from './offline/sync';
import { forgetSession, loadSession, saveSession, type Session } from './session/session';
import { SignIn } from './session/SignIn';
import { RoutineDetail, RoutineList, type RoutineView } from './routines/Routines';
import { IncidentDetail, IncidentList, type IncidentView, type LogView, type TaskView } from './incidents/Incidents';
import { Contacts, type ContactView } from './contacts/Contacts';
import { Status } from './status/Status';
import offlineQuery from './graphql/offline.graphql?raw';
import incidentOps from './graphql/incidents.graphql?raw';
import sessionOps from './graphql/session.graphql?raw';
import type { LogEntryKind } from './generated/schema';

interface Data extends OfflineData {
  routines: Array<RoutineView & Classified>;
  incidents: { nodes: Array<IncidentView & Classified> };
  myTasks: TaskView[];
  people: { nodes: Array<ContactView & { confidentiality: number }> };
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

  useEffect(() => {
    if (!session) return;
    let open: OfflineStore | undefined;
    void OfflineStore.open().then((s) => { open = s; setStore(s); });
    return () => open?.close();
  }, [session]);

  const send = useCallback(async (item: OutboxItem): Promise<SendOutcome> => {
    try {
      await request(incidentOps, 'AddLogEntry', {
        incidentId: item.incidentId, input: { ...item.input, clientId: item.clientId },
      }, session?.token);
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
  const sync = useCallback(async () => {
    if (!store || !session) return;
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
  }, [store, session, send]);

  useEffect(() => { void sync(); }, [sync]);
  useEffect(() => {
    const up = () => { setOnline(true); void sync(); };
    const down = () => setOnline(false);
    addEventListener('online', up);
    addEventListener('offline', down);
    return () => { removeEventListener('online', up); removeEventListener('offline', down); };
  }, [sync]);

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

  const ageText = data ? t.dataAge(age(data.savedAt).minutes) : '…';
  const incidents = data?.data.incidents.nodes ?? [];
  let screen;
  if (route[0] === 'incidents') {
    const incident = incidents.find((i) => i.id === route[1]);
    screen = incident
      ? <IncidentDetail t={t} incident={incident} mayWrite={session.roles.includes('CRISIS_LEAD')} onWrite={writeLog}
          queued={outbox.filter((o) => o.incidentId === incident.id)} />
      : <IncidentList t={t} incidents={incidents} tasks={data?.data.myTasks ?? []} />;
  } else if (route[0] === 'contacts') {
    screen = <Contacts t={t} people={data?.data.people.nodes ?? []} />;
  } else if (route[0] === 'status') {
    screen = <Status t={t} username={session.username} online={online} ageText={ageText} outbox={outbox}
      onDismiss={dismiss} onLanguage={switchLanguage} onSignOut={signOut} />;
  } else {
    const routine = data?.data.routines.find((r) => r.id === route[1]);
    screen = routine ? <RoutineDetail t={t} routine={routine} /> : <RoutineList t={t} routines={data?.data.routines ?? []} />;
  }
  const pending = outbox.filter((o) => o.state === 'pending').length;
  const rejected = outbox.length - pending;
  const tab = route[0] ?? 'routines';
  return (
    <>
      {!online && <div class="banner" role="status" data-testid="offline-banner">{t.offline} · {ageText}</div>}
      {(pending > 0 || rejected > 0) && (
        <a class="banner outbox" href="#/status" data-testid="outbox-banner">
          {pending > 0 && t.pending(pending)}{rejected > 0 && ` · ${rejected} ${t.rejected.toLowerCase()}`}
        </a>
      )}
      <main>{screen}</main>
      <nav class="tabs">
        {(['routines', 'incidents', 'contacts', 'status'] as const).map((name) => (
          <a key={name} href={`#/${name}`} aria-current={tab === name ? 'page' : undefined}>{t[name]}</a>
        ))}
      </nav>
    </>
  );
}
