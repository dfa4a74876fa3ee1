// The one module that owns data on the device: a snapshot of what the person may read
// offline and the outbox of writes not yet accepted by the server. IndexedDB is
// versioned here, apart from the service worker, so an app update never wipes it.
import { openDB, deleteDB, type DBSchema, type IDBPDatabase } from 'idb';

export const DB_NAME = 'reserv';
/** The stored shape's own version; bump it (with an upgrade step) when the shape changes. */
export const DB_VERSION = 1;

export interface Snapshot<T> {
  data: T;
  /** When the server gave us this data (ISO 8601). */
  savedAt: string;
}

/** What a queued write does; each kind is sent by its own mutation. */
export type OutboxWrite =
  | { kind: 'logEntry'; incidentId: string; input: { kind: string; text: string; occurredAt: string } }
  /** Acknowledging a crisis message; the server keeps the first acknowledgement. */
  | { kind: 'acknowledge'; messageId: string }
  /** Ticking a checklist step; the server applies a clientId once. */
  | { kind: 'tick'; runId: string; step: number; comment?: string }
  /** Unticking it again (a mistaken tick); the tick stays in the step's history. */
  | { kind: 'untick'; runId: string; step: number }
  /** A report from the floor of something that does not work. */
  | { kind: 'report'; input: ReportInput };

export interface ReportInput {
  title: string;
  description?: string;
  kind: string;
  severity: number;
  unitIds: string[];
  systemIds: string[];
}

export type OutboxItem = OutboxWrite & {
  /** Client-generated id; the server writes an entry once per id. */
  clientId: string;
  createdAt: string;
  state: 'pending' | 'rejected';
  /** Why the server refused it, shown to the person. */
  error?: string;
};

interface ReservDb extends DBSchema {
  snapshot: { key: string; value: Snapshot<unknown> };
  outbox: { key: string; value: OutboxItem };
}

export class OfflineStore {
  private constructor(private readonly db: IDBPDatabase<ReservDb>) {}

  static async open(name = DB_NAME): Promise<OfflineStore> {
    const db = await openDB<ReservDb>(name, DB_VERSION, {
      upgrade(db) {
        db.createObjectStore('snapshot');
        db.createObjectStore('outbox', { keyPath: 'clientId' });
      },
    });
    return new OfflineStore(db);
  }

  async saveSnapshot<T>(data: T, savedAt: Date): Promise<void> {
    await this.db.put('snapshot', { data, savedAt: savedAt.toISOString() }, 'offline');
  }

  async loadSnapshot<T>(): Promise<Snapshot<T> | undefined> {
    return (await this.db.get('snapshot', 'offline')) as Snapshot<T> | undefined;
  }

  async enqueue(item: OutboxItem): Promise<void> {
    await this.db.put('outbox', item);
  }

  /** Oldest first, so entries reach the crisis log in the order they were written. */
  async outbox(): Promise<OutboxItem[]> {
    const items = await this.db.getAll('outbox');
    return items.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async remove(clientId: string): Promise<void> {
    await this.db.delete('outbox', clientId);
  }

  close(): void {
    this.db.close();
  }
}

/** Removes everything Reserv stored on this device (sign-out). */
export async function clearDevice(store: OfflineStore | undefined, name = DB_NAME): Promise<void> {
  store?.close();
  await deleteDB(name);
}
