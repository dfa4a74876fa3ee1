// Enrolling a second factor, for a session whose role needs one: an authenticator app
// (scan the QR code, confirm with the first code, keep the recovery codes shown once)
// or a passkey made on this phone. Nothing else can be done until this is finished.
import { useEffect, useState } from 'preact/hooks';
import { request, Refused } from '../api';
import ops from '../graphql/session.graphql?raw';
import type { Strings } from '../i18n';
import { passkeysSupported } from './passkey';
import { addPasskey } from './Passkeys';

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
  const [busy, setBusy] = useState(false);

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

  async function passkey() {
    setBusy(true);
    setError(undefined);
    try {
      if (await addPasskey(token, t.defaultPasskeyName)) {
        onEnrolled();
        onDone();
      } else {
        setError(t.passkeyFailed);
      }
    } catch (e) {
      setError(e instanceof Refused ? t.passkeyFailed : t.needNetwork);
    } finally {
      setBusy(false);
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
      <button class="primary" disabled={!enrolment || busy}>{t.confirm}</button>
      {passkeysSupported() && (<>
        <p>{t.enrolPasskeyHelp}</p>
        <button type="button" disabled={busy} onClick={() => void passkey()} data-testid="enrol-passkey">{t.addPasskey}</button>
      </>)}
      <button type="button" class="danger" onClick={onSignOut}>{t.signOut}</button>
    </form>
  );
}
