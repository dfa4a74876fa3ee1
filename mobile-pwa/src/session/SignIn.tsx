// Signing in: at the organisation's identity provider (e-legitimation) when the
// deployment has one, or the password, then (for an account with a second factor) a
// code from the authenticator app, a recovery code, or a passkey. A sealed emergency
// code is the way in when the ordinary sign-in cannot be used; when SMS works, with a
// code texted to the person's registered phone as well.
import { useEffect, useState } from 'preact/hooks';
import { request, Refused } from '../api';
import ops from '../graphql/session.graphql?raw';
import type { Strings } from '../i18n';
import { passkeysSupported, signWithPasskey } from './passkey';
import { sessionOf, type Session, type SignedIn } from './session';

type Method = 'TOTP' | 'PASSKEY';
type Step =
  | { kind: 'password' }
  | { kind: 'code'; challenge: string; methods: Method[] }
  | { kind: 'emergency' }
  | { kind: 'smsCode'; challenge: string; phoneEnding: string };

interface EmergencyAnswer {
  signInWithEmergencyCode: { session: SignedIn | null; smsCode: { challenge: string; phoneEnding: string } | null };
}

/** The mark the identity provider's sign-in comes back to the app with. */
const RETURNED = 'signedIn';
const PROVIDER_RETURN = `/?${RETURNED}=provider`;

interface ProviderButton { label: string; startPath: string }

const fields = (event: Event) => new FormData(event.currentTarget as HTMLFormElement);
const text = (form: FormData, name: string) => String(form.get(name) ?? '').trim();

export function SignIn({ t, onSignedIn }: { t: Strings; onSignedIn: (session: Session) => void }) {
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [recovery, setRecovery] = useState(false);
  const [provider, setProvider] = useState<ProviderButton>();

  useEffect(() => {
    request<{ clientSettings: { oidc: ProviderButton | null } }>(ops, 'ClientSettings')
      .then((data) => setProvider(data.clientSettings.oidc ?? undefined))
      .catch(() => undefined);
    // Back from the identity provider, whose answer reached this browser only as the
    // session cookie: take the session over. Only then, so that a sign-out whose
    // request is still on its way is never undone by a cookie it has yet to clear.
    const url = new URL(location.href);
    if (!url.searchParams.has(RETURNED)) return;
    url.searchParams.delete(RETURNED);
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    void attempt(async () => {
      const data = await request<{ resumeSession: SignedIn }>(ops, 'ResumeSession');
      onSignedIn(sessionOf(data.resumeSession));
    }, t.providerSignInFailed);
  }, []);

  /** Runs one sign-in step; a refusal shows `refused`, anything else asks for the network. */
  async function attempt(work: () => Promise<void>, refused = t.signInFailed) {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (e) {
      setError(e instanceof Refused ? refused : t.needNetwork);
    } finally {
      setBusy(false);
    }
  }

  const password = (event: Event) => {
    event.preventDefault();
    const form = fields(event);
    void attempt(async () => {
      const data = await request<{ signIn: { session: SignedIn | null; secondFactor: { challenge: string; methods: Method[] } | null } }>(
        ops, 'SignIn', { username: text(form, 'username'), password: form.get('password') });
      if (data.signIn.session) onSignedIn(sessionOf(data.signIn.session));
      else if (data.signIn.secondFactor) setStep({ kind: 'code', ...data.signIn.secondFactor });
    });
  };

  const code = (challenge: string) => (event: Event) => {
    event.preventDefault();
    const value = text(fields(event), 'code');
    void attempt(async () => {
      const data = await request<{ completeSignIn: SignedIn }>(ops, 'CompleteSignIn',
        recovery ? { challenge, recoveryCode: value } : { challenge, code: value.replace(/\s/g, '') });
      onSignedIn(sessionOf(data.completeSignIn));
    });
  };

  const passkey = (challenge: string) => {
    setBusy(true);
    setError(undefined);
    void (async () => {
      try {
        const options = await request<{ beginPasskeySignIn: string }>(ops, 'BeginPasskeySignIn', { challenge });
        // The browser's own prompt (screen lock, fingerprint, security key) happens here.
        const assertion = await signWithPasskey(options.beginPasskeySignIn).catch(() => undefined);
        if (!assertion) {
          setError(t.passkeyFailed);
          return;
        }
        const data = await request<{ completeSignIn: SignedIn }>(ops, 'CompleteSignIn', { challenge, passkey: assertion });
        onSignedIn(sessionOf(data.completeSignIn));
      } catch (e) {
        setError(e instanceof Refused ? t.passkeyFailed : t.needNetwork);
      } finally {
        setBusy(false);
      }
    })();
  };

  const emergency = (event: Event) => {
    event.preventDefault();
    const form = fields(event);
    void attempt(async () => {
      const data = await request<EmergencyAnswer>(ops, 'EmergencySignIn',
        { username: text(form, 'username'), code: text(form, 'code') });
      const answer = data.signInWithEmergencyCode;
      if (answer.session) onSignedIn(sessionOf(answer.session));
      else if (answer.smsCode) setStep({ kind: 'smsCode', ...answer.smsCode });
    });
  };

  const smsCode = (challenge: string) => (event: Event) => {
    event.preventDefault();
    const value = text(fields(event), 'code').replace(/\s/g, '');
    void attempt(async () => {
      const data = await request<{ completeEmergencySignIn: SignedIn }>(ops, 'CompleteEmergencySignIn',
        { challenge, smsCode: value });
      onSignedIn(sessionOf(data.completeEmergencySignIn));
    });
  };

  const failure = error && <p class="error" role="alert">{error}</p>;
  if (step.kind === 'code') {
    const withPasskey = step.methods.includes('PASSKEY') && passkeysSupported();
    const withCode = step.methods.includes('TOTP');
    const passkeyButton = withPasskey && (
      <button type="button" class={withCode ? undefined : 'primary'} disabled={busy} onClick={() => passkey(step.challenge)}
        data-testid="use-passkey">{t.usePasskey}</button>
    );
    if (!withCode) {
      return (
        <section class="card" data-testid="code-step">
          <h1>{t.secondStep}</h1>
          <p>{withPasskey ? t.passkeyHelp : t.passkeyUnsupported}</p>
          {failure}
          {passkeyButton}
          <button type="button" onClick={() => { setStep({ kind: 'password' }); setError(undefined); }}>{t.back}</button>
        </section>
      );
    }
    return (
      <form class="card" onSubmit={code(step.challenge)} data-testid="code-step">
        <h1>{t.secondStep}</h1>
        <p>{recovery ? t.recoveryCodeHelp : t.codeHelp}</p>
        <label>{recovery ? t.recoveryCode : t.code}
          <input name="code" key={String(recovery)} autocomplete="one-time-code" required autoFocus
            inputMode={recovery ? 'text' : 'numeric'} pattern={recovery ? undefined : '[0-9 ]{6,7}'} autocapitalize="none" />
        </label>
        {failure}
        <button class="primary" disabled={busy}>{t.signIn}</button>
        {passkeyButton}
        <button type="button" onClick={() => setRecovery(!recovery)}>{recovery ? t.useApp : t.useRecoveryCode}</button>
        <button type="button" onClick={() => { setStep({ kind: 'password' }); setError(undefined); }}>{t.back}</button>
      </form>
    );
  }
  if (step.kind === 'smsCode') {
    return (
      <form class="card" onSubmit={smsCode(step.challenge)} data-testid="sms-code-step">
        <h1>{t.emergencySignIn}</h1>
        <p>{t.smsCodeHelp(step.phoneEnding)}</p>
        <label>{t.smsCode}
          <input name="code" autocomplete="one-time-code" inputMode="numeric" pattern="[0-9 ]{6,7}" required autoFocus />
        </label>
        {failure}
        <button class="primary" disabled={busy}>{t.signIn}</button>
        <button type="button" onClick={() => { setStep({ kind: 'emergency' }); setError(undefined); }}>{t.back}</button>
      </form>
    );
  }
  if (step.kind === 'emergency') {
    return (
      <form class="card" onSubmit={emergency} data-testid="emergency-step">
        <h1>{t.emergencySignIn}</h1>
        <p>{t.emergencyHelp}</p>
        <label>{t.username}<input name="username" autocomplete="username" autocapitalize="none" required /></label>
        <label>{t.emergencyCode}<input name="code" autocomplete="off" autocapitalize="none" required /></label>
        {failure}
        <button class="primary" disabled={busy}>{t.signIn}</button>
        <button type="button" onClick={() => { setStep({ kind: 'password' }); setError(undefined); }}>{t.back}</button>
      </form>
    );
  }
  return (
    <form class="card" onSubmit={password}>
      <h1>{t.appName}</h1>
      <label>{t.username}<input name="username" autocomplete="username" autocapitalize="none" required /></label>
      <label>{t.password}<input name="password" type="password" autocomplete="current-password" required /></label>
      {failure}
      <button class="primary" disabled={busy}>{t.signIn}</button>
      {provider && (
        <a class="button" href={`${provider.startPath}?return_to=${encodeURIComponent(PROVIDER_RETURN)}`}
          data-testid="provider-sign-in">{provider.label}</a>
      )}
      <button type="button" class="link" onClick={() => { setStep({ kind: 'emergency' }); setError(undefined); }}>{t.emergencySignIn}</button>
    </form>
  );
}
