// Enrolling an authenticator app, for a session whose role needs a second factor:
// scan the QR code, confirm with the first code, and keep the recovery codes shown
// once. Nothing else can be done until this is finished.
import { useEffect, useState } from 'preact/hooks';
import { request, Refused } from '../api';
import ops from '../graphql/session.graphql?raw';
import type { Strings } from '../i18n';

/**
 * `onEnrolled` runs as soon as the server has confirmed the app (the session no longer
 * needs to enrol, even if the phone restarts now); `onDone` when the person has put the
 * recovery codes away.
 */
export function Enrol({ t, token, onEnrolled, onDone, onSignOut }: {
  t: Strings; token: string; onEnrolled: () => void; onDone: () => void; onSignOut: () => void;
}) {
  const [enrolment, setEnrolment] = useState<{ qrCodeDataUrl: string; secret: string }>();
  const [codes, setCodes] = useState<string[]>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    request<{ beginTotpEnrolment: { qrCodeDataUrl: string; secret: string } }>(ops, 'BeginTotpEnrolment', {}, token)
      .then((data) => setEnrolment(data.beginTotpEnrolment))
      .catch(() => setError(t.needNetwork));
  }, [token]);

  async function confirm(event: Event) {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget as HTMLFormElement).get('code') ?? '').replace(/\s/g, '');
    setError(undefined);
    try {
      setCodes((await request<{ confirmTotpEnrolment: string[] }>(ops, 'ConfirmTotpEnrolment', { code }, token)).confirmTotpEnrolment);
      onEnrolled();
    } catch (e) {
      setError(e instanceof Refused ? t.wrongCode : t.needNetwork);
    }
  }

  if (codes) {
    return (
      <section data-testid="recovery-codes">
        <h1>{t.recoveryCodes}</h1>
        <p>{t.recoveryCodesHelp}</p>
        <ol class="codes">{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ol>
        <button class="primary" onClick={onDone}>{t.savedCodes}</button>
      </section>
    );
  }
  return (
    <form class="card" onSubmit={confirm} data-testid="enrol">
      <h1>{t.enrolTitle}</h1>
      <p>{t.enrolHelp}</p>
      {enrolment && (<>
        <img class="qr" src={enrolment.qrCodeDataUrl} width={220} height={220} alt={t.qrAlt} />
        <p>{t.secretHelp} <code data-testid="totp-secret">{enrolment.secret}</code></p>
      </>)}
      <label>{t.code}<input name="code" inputMode="numeric" autocomplete="one-time-code" required /></label>
      {error && <p class="error" role="alert">{error}</p>}
      <button class="primary" disabled={!enrolment}>{t.confirm}</button>
      <button type="button" class="danger" onClick={onSignOut}>{t.signOut}</button>
    </form>
  );
}
