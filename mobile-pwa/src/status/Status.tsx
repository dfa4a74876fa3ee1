import type { Strings } from '../i18n';
import type { OutboxItem } from '../offline/store';

export function Status({ t, username, online, ageText, outbox, onDismiss, onLanguage, onSignOut }: {
  t: Strings; username: string; online: boolean; ageText: string; outbox: OutboxItem[];
  onDismiss: (clientId: string) => void; onLanguage: () => void; onSignOut: () => void;
}) {
  const rejected = outbox.filter((o) => o.state === 'rejected');
  return (
    <section>
      <h1>{t.status}</h1>
      <p>{t.signedInAs} <strong>{username}</strong></p>
      <p>{online ? t.online : t.offline} · {ageText}</p>
      <p>{t.pending(outbox.filter((o) => o.state === 'pending').length)}</p>
      {rejected.length > 0 && (
        <ul class="list">
          {rejected.map((o) => (
            <li key={o.clientId} class="row rejected">
              <strong>{t.rejected}: {o.error}</strong><span>{o.input.text}</span>
              <button onClick={() => onDismiss(o.clientId)}>{t.dismiss}</button>
            </li>
          ))}
        </ul>
      )}
      <p class="note">{t.notDone}</p>
      <button onClick={onLanguage}>{t.language}</button>
      <button class="danger" onClick={onSignOut}>{t.signOut}</button>
    </section>
  );
}
