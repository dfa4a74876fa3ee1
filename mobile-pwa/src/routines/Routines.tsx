import { useState } from 'preact/hooks';
import type { ChecklistRun, ChecklistStep, Routine, RoutineStep } from '../generated/schema';
import type { Strings } from '../i18n';
import { time } from '../time';

export type RoutineView = Pick<Routine, 'id' | 'title' | 'trigger' | 'materials' | 'steps' | 'recoverySteps'>;

export type RunView = Pick<ChecklistRun, 'id' | 'routineId' | 'unitId' | 'phase' | 'exercise' | 'progress'> & {
  unit: { name: string } | null;
  steps: Array<Pick<ChecklistStep, 'number' | 'who' | 'what' | 'when' | 'ticked' | 'tickedBy' | 'tickedAt'>>;
};

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

/** A checklist run of the routine, ticked step by step; changes made offline show as waiting. */
function Checklist({ t, run, pending, onTick }: {
  t: Strings; run: RunView; pending: Map<number, boolean>; onTick: (runId: string, step: number, ticked: boolean) => void;
}) {
  const ticked = (s: RunView['steps'][number]) => pending.get(s.number) ?? s.ticked;
  const done = run.steps.filter(ticked).length;
  return (
    <section class="checklist" data-testid="checklist" data-run={run.id}>
      <h2>{run.exercise && `${t.exercise}: `}{run.phase === 'RECOVERY' ? t.recoveryChecklist : t.checklist}
        {run.unit && ` · ${run.unit.name}`}</h2>
      <p class="progress" data-testid="checklist-progress">{t.progress(done, run.steps.length)}</p>
      <ol class="ticks">
        {run.steps.map((s) => {
          const waiting = pending.has(s.number);
          return (
            <li key={s.number} class={ticked(s) ? 'ticked' : undefined} data-step={s.number}>
              <p><strong>{s.number}. {s.who}</strong>: {s.what}{s.when && <em> ({s.when})</em>}</p>
              {waiting
                ? <p class="done" data-testid="tick-pending">{ticked(s) ? `✓ ${t.tickPending}` : t.untickPending}</p>
                : s.ticked && <p class="done">✓ {t.tickedBy(s.tickedBy ?? '', s.tickedAt ? time(s.tickedAt) : '')}</p>}
              {ticked(s)
                ? <button class="untick" data-testid="untick" onClick={() => onTick(run.id, s.number, false)}>{t.untick} {s.number}</button>
                : <button class="tick" data-testid="tick" onClick={() => onTick(run.id, s.number, true)}>{t.tick} {s.number}</button>}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

export function RoutineDetail({ t, routine, runs, pendingTicks, onTick }: {
  t: Strings; routine: RoutineView; runs: RunView[]; pendingTicks: (runId: string) => Map<number, boolean>;
  onTick: (runId: string, step: number, ticked: boolean) => void;
}) {
  return (
    <article>
      <a class="back" href="#/routines">← {t.back}</a>
      <h1>{routine.title}</h1>
      <p><strong>{t.trigger}:</strong> {routine.trigger}</p>
      {runs.map((run) => <Checklist key={run.id} t={t} run={run} pending={pendingTicks(run.id)} onTick={onTick} />)}
      {!runs.some((r) => r.phase === 'FALLBACK') && (<><h2>{t.steps}</h2><Steps steps={routine.steps} /></>)}
      {routine.materials.length > 0 && (<>
        <h2>{t.materials}</h2>
        <ul>{routine.materials.map((m, i) => <li key={i}>{m.name}{m.location && ` – ${m.location}`}</li>)}</ul>
      </>)}
      {routine.recoverySteps.length > 0 && !runs.some((r) => r.phase === 'RECOVERY') && (<><h2>{t.recovery}</h2><Steps steps={routine.recoverySteps} /></>)}
    </article>
  );
}
