// Sending queued writes. A write leaves the outbox only when the server accepted it;
// a refusal is kept and shown until the person dismisses it, never dropped.
import type { OfflineStore, OutboxItem, OutboxWrite, ReportInput } from './store';

export type SendOutcome = { ok: true } | { ok: false; rejected: string };

/** Thrown by a sender when the server could not be reached: try again later. */
export class Unreachable extends Error {}

export function newClientId(): string {
  return crypto.randomUUID();
}

async function queue(store: OfflineStore, write: OutboxWrite, now: Date): Promise<OutboxItem> {
  const item = {
    ...write,
    clientId: newClientId(),
    createdAt: now.toISOString(),
    state: 'pending',
  } as OutboxItem;
  await store.enqueue(item);
  return item;
}

export async function queueLogEntry(
  store: OfflineStore,
  incidentId: string,
  input: { kind: string; text: string },
  now = new Date(),
): Promise<OutboxItem> {
  // The time it was written on the phone, not when it finally arrives.
  return queue(store, { kind: 'logEntry', incidentId, input: { ...input, occurredAt: now.toISOString() } }, now);
}

/**
 * Queues "I have read this message". Tapping twice, or again before the first one
 * was sent, queues nothing new: the pending acknowledgement is returned.
 */
export async function queueAcknowledgement(store: OfflineStore, messageId: string, now = new Date()): Promise<OutboxItem> {
  const waiting = (await store.outbox()).find((o) => o.kind === 'acknowledge' && o.messageId === messageId && o.state === 'pending');
  return waiting ?? queue(store, { kind: 'acknowledge', messageId }, now);
}

/**
 * Queues ticking (or, with `untick`, unticking) step `step` of a checklist run. The same
 * change already waiting is kept, not doubled; the opposite change still waiting is
 * taken back instead, as the two together change nothing on the server.
 */
export async function queueTick(store: OfflineStore, runId: string, step: number, now = new Date(), untick = false): Promise<OutboxItem | undefined> {
  const kind = untick ? 'untick' : 'tick';
  const waiting = (await store.outbox()).filter((o): o is Extract<OutboxItem, { kind: 'tick' | 'untick' }> =>
    (o.kind === 'tick' || o.kind === 'untick') && o.runId === runId && o.step === step && o.state === 'pending');
  const last = waiting.at(-1);
  if (last?.kind === kind) return last;
  if (last) {
    await store.remove(last.clientId);
    return undefined;
  }
  return queue(store, { kind, runId, step }, now);
}

export const queueUntick = (store: OfflineStore, runId: string, step: number, now = new Date()) =>
  queueTick(store, runId, step, now, true);

/** Queues a report from the floor. */
export async function queueReport(store: OfflineStore, input: ReportInput, now = new Date()): Promise<OutboxItem> {
  return queue(store, { kind: 'report', input }, now);
}

/** The steps of a run ticked (true) or unticked (false) on this device and not sent yet. */
export function pendingTicks(outbox: OutboxItem[], runId: string): Map<number, boolean> {
  const marks = new Map<number, boolean>();
  for (const o of outbox) {
    if ((o.kind === 'tick' || o.kind === 'untick') && o.runId === runId && o.state === 'pending') marks.set(o.step, o.kind === 'tick');
  }
  return marks;
}

/** What a queued write is, in a few words, for the outbox list. */
export function describe(item: OutboxItem): string {
  switch (item.kind) {
    case 'logEntry': return item.input.text;
    case 'acknowledge': return `✓ ${item.messageId}`;
    case 'tick': return `✓ ${item.step}`;
    case 'untick': return `✗ ${item.step}`;
    case 'report': return item.input.title;
  }
}

/**
 * Sends pending items in order. Stops at the first unreachable send (the rest would
 * fail too); a refused item is marked and the next one is tried. Returns how many
 * were accepted.
 */
export async function flushOutbox(
  store: OfflineStore,
  send: (item: OutboxItem) => Promise<SendOutcome>,
): Promise<number> {
  let accepted = 0;
  for (const item of await store.outbox()) {
    if (item.state !== 'pending') continue;
    let outcome: SendOutcome;
    try {
      outcome = await send(item);
    } catch (error) {
      if (error instanceof Unreachable) break;
      throw error;
    }
    if (outcome.ok) {
      await store.remove(item.clientId);
      accepted += 1;
    } else {
      await store.enqueue({ ...item, state: 'rejected', error: outcome.rejected });
    }
  }
  return accepted;
}

/**
 * Runs work one piece at a time, in the order asked. Syncs start from several places
 * (a tap, the network coming back, the periodic refresh); two flushes at once would
 * send the same write twice; the server dedupes by client id, but one at a time spares
 * it the work and keeps the order the person made their changes in.
 */
export function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>) => {
    const next = last.then(work, work);
    last = next.catch(() => undefined);
    return next;
  };
}
