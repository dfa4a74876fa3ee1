import { useState } from 'preact/hooks';
import { request, Refused } from '../api';
import login from '../graphql/session.graphql?raw';
import type { Mutation } from '../generated/schema';
import type { Session } from './session';
import type { Strings } from '../i18n';

export function SignIn({ t, onSignedIn }: { t: Strings; onSignedIn: (session: Session) => void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    try {
      const data = await request<Pick<Mutation, 'login'>>(login, 'Login', {
        username: form.get('username'), password: form.get('password'),
      }, undefined);
      onSignedIn({
        token: data.login.token,
        username: data.login.me.username,
        roles: data.login.me.roles.map((r) => r.role),
      });
    } catch (e) {
      setError(e instanceof Refused ? t.signInFailed : t.needNetwork);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="card" onSubmit={submit}>
      <h1>{t.appName}</h1>
      <label>{t.username}<input name="username" autocomplete="username" autocapitalize="none" required /></label>
      <label>{t.password}<input name="password" type="password" autocomplete="current-password" required /></label>
      {error && <p class="error" role="alert">{error}</p>}
      <button class="primary" disabled={busy}>{t.signIn}</button>
    </form>
  );
}
