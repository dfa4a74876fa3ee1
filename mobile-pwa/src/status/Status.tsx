import type { Strings } from '../i18n';
import type { OutboxItem } from '../offline/store';
import { describe } from '../offline/outbox';
import { time } from '../time';

type Text = { sv: string; en: string | null };
export interface NoticeView {
  id: string;
  latest: {
    headline: Text; body: Text; validFrom: string;
    services: Array<{ name: Text; state: string }>;
    hotlines: Array<{ name: Text; phone: string; openingHours: Text }>;
  } | null;
}

const say = (text: Text) => (document.documentElement.lang === 'en' && text.en) || text.sv;

/** What residents are told right now, as the public status page says it. */
function Notices({ t, notices }: { t: Strings; notices: NoticeView[] }) {
  return (
    <section data-testid="notices">
      <h2>{t.notices}</h2>
      {notices.length === 0 && <p>{t.noNotices}</p>}
      {notices.map(({ id, latest: n }) => n && (
        <article key={id} class="notice" data-notice={id}>
          <h3>{say(n.headline)}</h3>
          <p><small>{t.publishedAt(time(n.validFrom))}</small></p>
          <p class="body">{say(n.body)}</p>
          {n.services.length > 0 && (
            <ul class="services">
              {n.services.map((s, i) => (
                <li key={i} class={`service ${s.state.toLowerCase()}`}>
                  <span>{say(s.name)}</span><strong>{t.service[s.state] ?? s.state}</strong>
                </li>
              ))}
            </ul>
          )}
          {n.hotlines.map((h, i) => (
            <p key={i} class="hotline">
              <a class="button" href={`tel:${h.phone}`}>{t.call} {say(h.name)}: {h.phone}</a>
              <small>{say(h.openingHours)}</small>
            </p>
          ))}
        </article>
      ))}
    </section>
  );
}

export function Status({ t, username, online, ageText, outbox, notices, onDismiss, onLanguage, onSignOut }: {
  t: Strings; username: string; online: boolean; ageText: string; outbox: OutboxItem[]; notices: NoticeView[];
  onDismiss: (clientId: string) => void; onLanguage: () => void; onSignOut: () => void;
}) {
  const rejected = outbox.filter((o) => o.state === 'rejected');
  return (
    <section>
      <h1>{t.status}</h1>
      <Notices t={t} notices={notices} />
      <h2>{t.thisPhone}</h2>
      <p>{t.signedInAs} <strong>{username}</strong></p>
      <p>{online ? t.online : t.offline} · {ageText}</p>
      <p>{t.pending(outbox.filter((o) => o.state === 'pending').length)}</p>
      {rejected.length > 0 && (
        <ul class="list">
          {rejected.map((o) => (
            <li key={o.clientId} class="row rejected">
              <strong>{t.rejected}: {o.error}</strong><span>{t.outboxKind[o.kind]}: {describe(o)}</span>
              <button onClick={() => onDismiss(o.clientId)}>{t.dismiss}</button>
            </li>
          ))}
        </ul>
      )}
      <button onClick={onLanguage}>{t.language}</button>
      <button class="danger" onClick={onSignOut}>{t.signOut}</button>
    </section>
  );
}
