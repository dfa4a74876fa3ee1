import { useState } from 'preact/hooks';
import type { Incident, IncidentBriefing, LogEntry, LogEntryKind, Task } from '../generated/schema';
import type { Strings } from '../i18n';
import type { OutboxItem } from '../offline/store';
import { time } from '../time';

export type LogView = Pick<LogEntry, 'id' | 'kind' | 'text' | 'author' | 'occurredAt'>;
export type IncidentView = Pick<Incident, 'id' | 'title' | 'state' | 'severity' | 'exercise'> & {
  units: Array<{ name: string }>;
  log: LogView[];
};
export type TaskView = Pick<Task, 'id' | 'title' | 'dueAt' | 'state' | 'incidentId' | 'confidentiality'>;
export type BriefingView = Pick<IncidentBriefing, 'incidentId' | 'state' | 'exercise' | 'confidentiality'> & {
  log: Array<LogView & { confidentiality: number }>;
  tasks: TaskView[];
};


export function IncidentList({ t, incidents, tasks, briefings }: {
  t: Strings; incidents: IncidentView[]; tasks: TaskView[]; briefings: BriefingView[];
}) {
  return (
    <section>
      <h1>{t.incidents}</h1>
      {incidents.length === 0 && briefings.length === 0 && <p>{t.noIncidents}</p>}
      <ul class="list">
        {incidents.map((i) => (
          <li key={i.id}><a class="row" href={`#/incidents/${i.id}`}>
            <strong>{i.exercise && `${t.exercise}: `}{i.title}</strong>
            <span>{t.state[i.state]} · {i.units.map((u) => u.name).join(', ')}</span>
          </a></li>
        ))}
      </ul>
      {briefings.length > 0 && (<>
        <h2>{t.briefings}</h2>
        {briefings.map((b) => (
          <article key={b.incidentId} class="card" data-testid="briefing">
            <p><strong>{b.exercise && `${t.exercise}: `}{t.protectedIncident(b.confidentiality)}</strong> {t.state[b.state]}</p>
            <ol class="log">
              {b.log.map((e) => (
                <li key={e.id}><small>{time(e.occurredAt)} · {t.kind[e.kind]} · {e.author}</small><p>{e.text}</p></li>
              ))}
            </ol>
          </article>
        ))}
      </>)}
      {tasks.length > 0 && (<>
        <h2>{t.myTasks}</h2>
        <ul class="list">
          {tasks.map((task) => (
            <li key={task.id} class="row"><strong>{task.title}</strong>
              {task.dueAt && <span>{t.due} {time(task.dueAt)}</span>}</li>
          ))}
        </ul>
      </>)}
    </section>
  );
}

export function IncidentDetail({ t, incident, queued, mayWrite, onWrite }: {
  t: Strings; incident: IncidentView; queued: Array<Extract<OutboxItem, { kind: 'logEntry' }>>; mayWrite: boolean;
  onWrite: (kind: LogEntryKind, text: string) => Promise<void>;
}) {
  const [text, setText] = useState('');
  const [kind, setKind] = useState<LogEntryKind>('OBSERVATION');
  async function submit(event: Event) {
    event.preventDefault();
    if (!text.trim()) return;
    await onWrite(kind, text.trim());
    setText('');
  }
  return (
    <article>
      <a class="back" href="#/incidents">← {t.back}</a>
      <h1>{incident.title}</h1>
      <p>{t.state[incident.state]}</p>
      <h2>{t.log}</h2>
      <ol class="log" data-testid="crisis-log">
        {incident.log.map((e) => (
          <li key={e.id}><small>{time(e.occurredAt)} · {t.kind[e.kind]} · {e.author}</small><p>{e.text}</p></li>
        ))}
        {queued.map((q) => (
          <li key={q.clientId} class={q.state}><small>{time(q.input.occurredAt)} · {t.kind[q.input.kind]} · {q.state === 'rejected' ? t.rejected : '⏳'}</small><p>{q.input.text}</p></li>
        ))}
      </ol>
      {mayWrite && (
        <form onSubmit={submit} class="card">
          <label>{t.addEntry}
            <select value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value as LogEntryKind)}>
              {Object.entries(t.kind).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
            </select>
          </label>
          <textarea name="text" rows={3} value={text} aria-label={t.addEntry}
            onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
          <button class="primary">{t.send}</button>
        </form>
      )}
    </article>
  );
}
