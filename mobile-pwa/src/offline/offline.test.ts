import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { OfflineStore, clearDevice, DB_NAME } from './store';
import { describe as describe_, flushOutbox, oneAtATime, pendingTicks, queueAcknowledgement, queueLogEntry, queueReport, queueTick, queueUntick, Unreachable } from './outbox';
import { keepable, refresh, type OfflineData } from './sync';

let n = 0;
const fresh = () => OfflineStore.open(`test-${++n}`);

const sample = (): OfflineData => ({
  me: { username: 'underskoterska' },
  routines: [
    { id: 'r1', classification: { confidentiality: 1 } },
    { id: 'r2', classification: { confidentiality: 2 } },
  ],
  incidents: { nodes: [
    { id: 'i1', classification: { confidentiality: 0 } },
    { id: 'i2', classification: { confidentiality: 3 } },
  ] },
  myTasks: [ { id: 't1', incidentId: 'i1', confidentiality: 0 }, { id: 't2', incidentId: 'i2', confidentiality: 3 } ],
  people: { nodes: [ { id: 'p1', confidentiality: 1 }, { id: 'p2', confidentiality: 2 } ] },
});

describe('the outbox', () => {
  it('keeps a write until the server accepts it, and sends it with the same client id', async () => {
    const store = await fresh();
    const item = await queueLogEntry(store, 'i1', { kind: 'OBSERVATION', text: 'Dörrlåset fungerar inte' });
    const seen: string[] = [];
    await flushOutbox(store, async (sent) => { seen.push(sent.clientId); throw new Unreachable(); });
    expect(await store.outbox()).toHaveLength(1);
    await flushOutbox(store, async (sent) => { seen.push(sent.clientId); return { ok: true }; });
    expect(seen).toEqual([item.clientId, item.clientId]);
    expect(await store.outbox()).toHaveLength(0);
  });

  it('keeps a refused write with the reason and goes on with the next', async () => {
    const store = await fresh();
    await queueLogEntry(store, 'i1', { kind: 'ACTION', text: 'a' }, new Date('2026-12-03T10:00:00Z'));
    await queueLogEntry(store, 'i1', { kind: 'ACTION', text: 'b' }, new Date('2026-12-03T10:01:00Z'));
    const accepted = await flushOutbox(store, async (item) =>
      describe_(item) === 'a' ? { ok: false, rejected: 'The incident is closed' } : { ok: true });
    expect(accepted).toBe(1);
    const left = await store.outbox();
    expect(left).toMatchObject([{ state: 'rejected', error: 'The incident is closed' }]);
    // A refused write is not sent again by itself.
    expect(await flushOutbox(store, async () => { throw new Error('must not send'); })).toBe(0);
  });

  it('sends in the order things were written', async () => {
    const store = await fresh();
    await queueLogEntry(store, 'i1', { kind: 'ACTION', text: 'second' }, new Date('2026-12-03T10:05:00Z'));
    await queueLogEntry(store, 'i1', { kind: 'ACTION', text: 'first' }, new Date('2026-12-03T10:00:00Z'));
    const order: string[] = [];
    await flushOutbox(store, async (item) => { order.push(describe_(item)); return { ok: true }; });
    expect(order).toEqual(['first', 'second']);
  });
});

describe('acknowledgements, ticks and reports in the outbox', () => {
  it('an acknowledgement tapped twice offline is sent once, and again after a lost answer with the same id', async () => {
    const store = await fresh();
    const first = await queueAcknowledgement(store, 'm1');
    const again = await queueAcknowledgement(store, 'm1');
    expect(again.clientId).toBe(first.clientId);
    expect(await store.outbox()).toHaveLength(1);
    const sent: string[] = [];
    await flushOutbox(store, async (item) => { sent.push(item.clientId); throw new Unreachable(); });
    await flushOutbox(store, async (item) => {
      sent.push(item.clientId);
      expect(item).toMatchObject({ kind: 'acknowledge', messageId: 'm1' });
      return { ok: true };
    });
    expect(sent).toEqual([first.clientId, first.clientId]);
    expect(await store.outbox()).toHaveLength(0);
    // Once sent, acknowledging again queues a new write (the server keeps the first time).
    expect((await queueAcknowledgement(store, 'm1')).clientId).not.toBe(first.clientId);
  });

  it('ticks are queued once per step, remembered per run, and sent in the order they were made', async () => {
    const store = await fresh();
    await queueTick(store, 'run1', 2, new Date('2026-12-04T08:00:00Z'));
    await queueTick(store, 'run1', 1, new Date('2026-12-04T08:01:00Z'));
    await queueTick(store, 'run1', 2, new Date('2026-12-04T08:02:00Z'));
    await queueTick(store, 'run2', 2, new Date('2026-12-04T08:03:00Z'));
    const outbox = await store.outbox();
    expect(outbox).toHaveLength(3);
    expect([...pendingTicks(outbox, 'run1')].sort()).toEqual([[1, true], [2, true]]);
    expect([...pendingTicks(outbox, 'run2')]).toEqual([[2, true]]);
    const order: string[] = [];
    await flushOutbox(store, async (item) => {
      if (item.kind === 'tick') order.push(`${item.runId}/${item.step}`);
      return { ok: true };
    });
    expect(order).toEqual(['run1/2', 'run1/1', 'run2/2']);
  });

  it('a tick taken back before it was sent cancels out, and so does an untick ticked again', async () => {
    const store = await fresh();
    await queueTick(store, 'run1', 3);
    expect(await queueUntick(store, 'run1', 3)).toBeUndefined();
    expect(await store.outbox()).toHaveLength(0);
    // A step ticked on the server, unticked offline and ticked again: nothing to send.
    await queueUntick(store, 'run1', 4);
    expect(pendingTicks(await store.outbox(), 'run1').get(4)).toBe(false);
    await queueTick(store, 'run1', 4);
    expect(await store.outbox()).toHaveLength(0);
    // Once sent, unticking is a write of its own.
    await queueTick(store, 'run1', 5);
    await flushOutbox(store, async () => ({ ok: true }));
    const untick = await queueUntick(store, 'run1', 5);
    expect(untick).toMatchObject({ kind: 'untick', runId: 'run1', step: 5 });
    expect(pendingTicks(await store.outbox(), 'run1')).toEqual(new Map([[5, false]]));
  });

  it('a refused tick is kept with the reason and no longer counts as waiting to be sent', async () => {
    const store = await fresh();
    await queueTick(store, 'run1', 1);
    await flushOutbox(store, async () => ({ ok: false, rejected: 'The run has ended' }));
    const [left] = await store.outbox();
    expect(left).toMatchObject({ kind: 'tick', state: 'rejected', error: 'The run has ended' });
    // Tapping the step again queues a fresh tick beside the refused one.
    await queueTick(store, 'run1', 1);
    expect((await store.outbox()).filter((o) => o.state === 'pending')).toHaveLength(1);
  });

  it('a report waits with everything the crisis staff need, and is described by its title', async () => {
    const store = await fresh();
    const input = { title: 'Journalsystemet fungerar inte', kind: 'IT_OUTAGE', severity: 2, unitIds: ['u1'], systemIds: ['s1'] };
    const item = await queueReport(store, input);
    const [stored] = await store.outbox();
    expect(stored).toMatchObject({ kind: 'report', input, clientId: item.clientId, state: 'pending' });
    expect(describe_(stored)).toBe('Journalsystemet fungerar inte');
  });
});

describe('syncs one at a time', () => {
  it('two flushes started together send each queued write once', async () => {
    const store = await fresh();
    await queueReport(store, { title: 'Telefonin fungerar inte', kind: 'IT_OUTAGE', severity: 2, unitIds: [], systemIds: [] });
    await queueTick(store, 'run1', 1);
    const sent: string[] = [];
    const slow = async (item: { clientId: string }) => {
      await new Promise((r) => setTimeout(r, 5));
      sent.push(item.clientId);
      return { ok: true } as const;
    };
    const serial = oneAtATime();
    await Promise.all([serial(() => flushOutbox(store, slow)), serial(() => flushOutbox(store, slow))]);
    expect(sent).toHaveLength(2);
    expect(new Set(sent).size).toBe(2);
  });

  it('a failed piece of work does not stop the next', async () => {
    const serial = oneAtATime();
    const failed = serial(async () => { throw new Error('offline'); });
    await expect(failed).rejects.toThrow('offline');
    expect(await serial(async () => 'next')).toBe('next');
  });
});

describe('the offline store', () => {
  it('stores nothing above the deployment limit', () => {
    const kept = keepable(sample(), 1);
    expect(kept.routines.map((r) => r.id)).toEqual(['r1']);
    expect(kept.incidents.nodes.map((i) => i.id)).toEqual(['i1']);
    expect(kept.myTasks.map((t) => t.id)).toEqual(['t1']);
    expect(kept.people.nodes.map((p) => p.id)).toEqual(['p1']);
  });

  it('keeps messages above the deployment limit off the device', () => {
    const data = { ...sample(), myMessages: [
      { message: { id: 'm1', classification: { confidentiality: 1 } } },
      { message: { id: 'm2', classification: { confidentiality: 2 } } },
    ] };
    expect(keepable(data, 1).myMessages?.map((m) => m.message.id)).toEqual(['m1']);
  });

  it('keeps an internal instruction of a sensitive incident, and nothing else of it', () => {
    const data = { ...sample(),
      myTasks: [ { id: 't3', incidentId: 'i2', confidentiality: 1 }, { id: 't4', incidentId: 'i2', confidentiality: 2 } ],
      briefings: [
        { incidentId: 'i2', log: [ { id: 'e1', confidentiality: 1 }, { id: 'e2', confidentiality: 2 } ], tasks: [] },
        { incidentId: 'i3', log: [ { id: 'e3', confidentiality: 2 } ], tasks: [ { id: 't5', confidentiality: 2 } ] },
      ] };
    const kept = keepable(data, 1);
    expect(kept.incidents.nodes.map((i) => i.id)).toEqual(['i1']);
    expect(kept.myTasks.map((t) => t.id)).toEqual(['t3']);
    expect(kept.briefings).toEqual([{ incidentId: 'i2', log: [ { id: 'e1', confidentiality: 1 } ], tasks: [] }]);
  });

  it('sign-out removes the database', async () => {
    const store = await OfflineStore.open(DB_NAME);
    await store.saveSnapshot(sample(), new Date());
    await clearDevice(store);
    const again = await OfflineStore.open(DB_NAME);
    expect(await again.loadSnapshot()).toBeUndefined();
    again.close();
  });
});

describe('syncing', () => {
  it('shows everything online, stores only the allowed part, and falls back to it offline', async () => {
    const store = await fresh();
    const online = await refresh(store, async () => ({ data: sample(), maxConfidentiality: 1 }),
      () => new Date('2026-12-03T09:00:00Z'));
    expect(online?.fresh).toBe(true);
    expect(online?.snapshot.data.routines).toHaveLength(2);
    const offline = await refresh(store, async () => { throw new TypeError('Failed to fetch'); });
    expect(offline?.fresh).toBe(false);
    expect(offline?.snapshot.savedAt).toBe('2026-12-03T09:00:00.000Z');
    expect(offline?.snapshot.data.routines.map((r) => r.id)).toEqual(['r1']);
  });

  it('with nothing stored, an unreachable server is an error', async () => {
    const store = await fresh();
    await expect(refresh(store, async () => { throw new TypeError('Failed to fetch'); })).rejects.toThrow();
  });
});
