import type { Person } from '../generated/schema';
import type { Strings } from '../i18n';

export type ContactView = Pick<Person, 'id' | 'name' | 'title' | 'phone'>;

export function Contacts({ t, people }: { t: Strings; people: ContactView[] }) {
  return (
    <section>
      <h1>{t.contacts}</h1>
      {people.length === 0 && <p>{t.noContacts}</p>}
      <ul class="list">
        {people.map((p) => (
          <li key={p.id} class="row">
            <strong>{p.name}</strong>
            {p.title && <span>{p.title}</span>}
            {p.phone && (
              <span class="actions">
                <a class="button" href={`tel:${p.phone}`}>{t.call}</a>
                <a class="button" href={`sms:${p.phone}`}>{t.sms}</a>
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
