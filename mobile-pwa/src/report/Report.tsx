// "Rapportera": the floor tells the crisis staff what does not work. Three questions,
// big choices; queued on the phone when there is no network.
import { useState } from 'preact/hooks';
import type { ItSystem } from '../generated/schema';
import type { Strings } from '../i18n';
import type { ReportInput } from '../offline/store';

export type SystemView = Pick<ItSystem, 'id' | 'name' | 'state'>;
export type Outcome = 'sent' | 'queued' | 'refused';

const OTHER = 'other';

export function Report({ t, units, systems, onReport }: {
  t: Strings; units: Array<{ id: string; name: string }>; systems: SystemView[];
  onReport: (input: ReportInput) => Promise<Outcome>;
}) {
  const [what, setWhat] = useState<string>('');
  const [outcome, setOutcome] = useState<Outcome>();
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const description = String(form.get('description') ?? '').trim();
    const system = systems.find((s) => s.id === what);
    if (!system && !description) return;
    const unit = String(form.get('unit') ?? '');
    setBusy(true);
    try {
      setOutcome(await onReport({
        title: system ? t.notWorking(system.name) : description.slice(0, 120),
        description: description || undefined,
        kind: system ? 'IT_OUTAGE' : 'OTHER',
        severity: Number(form.get('severity') ?? 3),
        unitIds: unit ? [unit] : [],
        systemIds: system ? [system.id] : [],
      }));
    } finally {
      setBusy(false);
    }
  }

  if (outcome === 'sent' || outcome === 'queued') {
    return (
      <section data-testid="report-done">
        <h1>{t.report}</h1>
        <p class="confirm" role="status">{outcome === 'sent' ? t.reportSent : t.reportQueued}</p>
        <button class="primary" onClick={() => { setOutcome(undefined); setWhat(''); }}>{t.reportAnother}</button>
        <a class="button" href="#/routines">{t.routines}</a>
      </section>
    );
  }
  return (
    <form class="card" onSubmit={submit} data-testid="report">
      <h1>{t.reportTitle}</h1>
      <label>{t.whatIsWrong}
        <select name="what" required value={what} onChange={(e) => setWhat((e.currentTarget as HTMLSelectElement).value)}>
          <option value="" disabled>{t.choose}</option>
          {systems.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          <option value={OTHER}>{t.somethingElse}</option>
        </select>
      </label>
      <label>{what === OTHER ? t.describeRequired : t.describe}
        <textarea name="description" rows={3} required={what === OTHER} />
      </label>
      {units.length > 0 && (
        <label>{t.unit}
          <select name="unit">{units.map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}</select>
        </label>
      )}
      <fieldset>
        <legend>{t.howBad}</legend>
        <div class="choices">
          {[1, 2, 3, 4].map((level) => (
            <label key={level} class="choice">
              <input type="radio" name="severity" value={level} defaultChecked={level === 3} />
              {t.severity[level]}
            </label>
          ))}
        </div>
      </fieldset>
      {outcome === 'refused' && <p class="error" role="alert">{t.reportRefused}</p>}
      <button class="primary" disabled={busy}>{t.sendReport}</button>
    </form>
  );
}
