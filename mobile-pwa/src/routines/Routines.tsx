import { useState } from 'preact/hooks';
import type { Routine, RoutineStep } from '../generated/schema';
import type { Strings } from '../i18n';

export type RoutineView = Pick<Routine, 'id' | 'title' | 'trigger' | 'materials' | 'steps' | 'recoverySteps'>;

export function RoutineList({ t, routines }: { t: Strings; routines: RoutineView[] }) {
  const [query, setQuery] = useState('');
  const needle = query.trim().toLowerCase();
  const shown = routines.filter((r) => !needle || `${r.title} ${r.trigger}`.toLowerCase().includes(needle));
  return (
    <section>
      <h1>{t.routines}</h1>
      <input type="search" placeholder={t.search} aria-label={t.search} value={query}
        onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)} />
      {shown.length === 0 && <p>{t.noRoutines}</p>}
      <ul class="list" data-testid="routine-list">
        {shown.map((r) => (
          <li key={r.id}><a class="row" href={`#/routines/${r.id}`}><strong>{r.title}</strong><span>{r.trigger}</span></a></li>
        ))}
      </ul>
    </section>
  );
}

function Steps({ steps }: { steps: RoutineStep[] }) {
  return (
    <ol class="steps">
      {steps.map((s, i) => (
        <li key={i}><strong>{s.who}</strong>: {s.what}{s.when && <em> ({s.when})</em>}</li>
      ))}
    </ol>
  );
}

export function RoutineDetail({ t, routine }: { t: Strings; routine: RoutineView }) {
  return (
    <article>
      <a class="back" href="#/routines">← {t.back}</a>
      <h1>{routine.title}</h1>
      <p><strong>{t.trigger}:</strong> {routine.trigger}</p>
      <h2>{t.steps}</h2>
      <Steps steps={routine.steps} />
      {routine.materials.length > 0 && (<>
        <h2>{t.materials}</h2>
        <ul>{routine.materials.map((m, i) => <li key={i}>{m.name}{m.location && ` – ${m.location}`}</li>)}</ul>
      </>)}
      {routine.recoverySteps.length > 0 && (<><h2>{t.recovery}</h2><Steps steps={routine.recoverySteps} /></>)}
    </article>
  );
}
