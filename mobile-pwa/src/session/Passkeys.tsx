// The signed-in person's passkeys, and adding one from this phone ("Lägg till nyckel"):
// the browser's own prompt creates it, the server stores it. Needs the network.
import { useEffect, useState } from 'preact/hooks';
import { request, Refused } from '../api';
import ops from '../graphql/session.graphql?raw';
import type { Strings } from '../i18n';
import { createPasskey, passkeysSupported } from './passkey';

type Passkey = { id: string; name: string; createdAt: string; lastUsedAt: string | null };

/**
 * Adds a passkey made on this device to the signed-in account: the server's options,
 * the browser's own prompt, the server's check. False when the prompt gave nothing
 * (cancelled, or the device refused); a refusal by the server throws.
 */
export async function addPasskey(token: string, name: string): Promise<boolean> {
  const options = await request<{ beginPasskeyEnrolment: string }>(ops, 'BeginPasskeyEnrolment', {}, token);
  const credential = await createPasskey(options.beginPasskeyEnrolment).catch(() => undefined);
  if (!credential) return false;
  await request(ops, 'FinishPasskeyEnrolment', { name, credential }, token);
  return true;
}

export function Passkeys({ t, token, online }: { t: Strings; token: string; online: boolean }) {
  const [passkeys, setPasskeys] = useState<Passkey[]>();
  const [message, setMessage] = useState<{ text: string; error: boolean }>();
  const [busy, setBusy] = useState(false);

  const load = () => request<{ me: { passkeys: Passkey[] } }>(ops, 'Passkeys', {}, token)
    .then((data) => setPasskeys(data.me.passkeys))
    .catch(() => undefined);
  useEffect(() => { if (online) void load(); }, [token, online]);

  async function add(event: Event) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget as HTMLFormElement).get('name') ?? '').trim() || t.defaultPasskeyName;
    setBusy(true);
    setMessage(undefined);
    try {
      if (!(await addPasskey(token, name))) {
        setMessage({ text: t.passkeyFailed, error: true });
        return;
      }
      setMessage({ text: t.passkeyAdded(name), error: false });
      await load();
    } catch (e) {
      setMessage({ text: e instanceof Refused ? t.passkeyFailed : t.needNetwork, error: true });
    } finally {
      setBusy(false);
    }
  }

  if (!passkeysSupported()) return null;
  return (
    <section data-testid="passkeys">
      <h2>{t.passkeys}</h2>
      {passkeys && (passkeys.length === 0
        ? <p>{t.noPasskeys}</p>
        : <ul class="list">{passkeys.map((p) => <li key={p.id} class="row">{p.name}</li>)}</ul>)}
      <form onSubmit={add}>
        <label>{t.passkeyName}<input name="name" placeholder={t.defaultPasskeyName} maxLength={100} /></label>
        {message && <p class={message.error ? 'error' : undefined} role={message.error ? 'alert' : 'status'}>{message.text}</p>}
        <button disabled={busy || !online}>{t.addPasskey}</button>
      </form>
    </section>
  );
}
