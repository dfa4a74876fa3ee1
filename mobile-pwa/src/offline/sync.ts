// Refreshing the device's copy: fetch what the person may read, keep on the device only
// what the deployment allows offline (offlineMaxConfidentiality), show the rest while
// online only.
import type { OfflineStore, Snapshot } from './store';

export interface Classified {
  classification: { confidentiality: number };
}

export interface OfflineData {
  me: unknown;
  routines: Array<Classified & { id: string }>;
  incidents: { nodes: Array<Classified & { id: string }> };
  myTasks: Array<{ id: string; incidentId: string; confidentiality: number }>;
  /** What the person may see of sensitive incidents in her units: parts at her level. */
  briefings?: Array<{ incidentId: string; log: Array<{ confidentiality: number }>; tasks: Array<{ confidentiality: number }> }>;
  people: { nodes: Array<{ id: string; confidentiality: number }> };
  /** Crisis messages to the person; kept under the same limit as the rest. */
  myMessages?: Array<{ message: Classified & { id: string } }>;
}

/**
 * What may be stored: nothing above `max`. A task or a briefing's entry has a level of its
 * own, at most its incident's, so an internal instruction inside a sensitive incident may
 * stay on the phone while the incident itself does not.
 */
export function keepable<T extends OfflineData>(data: T, max: number): T {
  const allowed = (item: { confidentiality: number }) => item.confidentiality <= max;
  return {
    ...data,
    routines: data.routines.filter((r) => r.classification.confidentiality <= max),
    incidents: { ...data.incidents, nodes: data.incidents.nodes.filter((i) => i.classification.confidentiality <= max) },
    myTasks: data.myTasks.filter(allowed),
    ...(data.briefings && {
      briefings: data.briefings
        .map((b) => ({ ...b, log: b.log.filter(allowed), tasks: b.tasks.filter(allowed) }))
        .filter((b) => b.log.length > 0 || b.tasks.length > 0),
    }),
    people: { ...data.people, nodes: data.people.nodes.filter((p) => p.confidentiality <= max) },
    ...(data.myMessages && { myMessages: data.myMessages.filter((m) => m.message.classification.confidentiality <= max) }),
  };
}

/**
 * Fetches fresh data, stores the part allowed offline and returns all of it for the
 * screen. When the server is unreachable, returns the stored snapshot (or undefined).
 */
export async function refresh<T extends OfflineData>(
  store: OfflineStore,
  fetchData: () => Promise<{ data: T; maxConfidentiality: number }>,
  now = () => new Date(),
): Promise<{ snapshot: Snapshot<T>; fresh: boolean } | undefined> {
  try {
    const { data, maxConfidentiality } = await fetchData();
    const savedAt = now();
    await store.saveSnapshot(keepable(data, maxConfidentiality), savedAt);
    return { snapshot: { data, savedAt: savedAt.toISOString() }, fresh: true };
  } catch (error) {
    const stored = await store.loadSnapshot<T>();
    if (!stored) throw error;
    return { snapshot: stored, fresh: false };
  }
}

/** "5 min", "2 h": how old the shown data is. */
export function age(savedAt: string, now = new Date()): { minutes: number } {
  return { minutes: Math.max(0, Math.floor((now.getTime() - Date.parse(savedAt)) / 60000)) };
}
