// Sending queued writes. A write leaves the outbox only when the server accepted it;
// a refusal is kept and shown until the person dismisses it, never dropped.
import type { OfflineStore, OutboxItem } from './store';

export type SendOutcome = { ok: true } | { ok: false; rejected: string };

/** Thrown by a sender when the server could not be reached: try again later. */
export class Unreachable extends Error {}

export function newClientId(): string {
  return crypto.randomUUID();
}

export async function queueLogEntry(
  store: OfflineStore,
  incidentId: string,
  input: { kind: string; text: string },
  now = new Date(),
): Promise<OutboxItem> {
  const item: OutboxItem = {
    clientId: newClientId(),
    kind: 'logEntry',
    incidentId,
    // The time it was written on the phone, not when it finally arrives.
    input: { ...input, occurredAt: now.toISOString() },
    createdAt: now.toISOString(),
    state: 'pending',
  };
  await store.enqueue(item);
  return item;
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
