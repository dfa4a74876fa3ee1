// Crisis messages to the person, acknowledged with one tap (queued offline), and for
// those who send messages the roll-call of who each one has reached, kept current.
import { useEffect, useState } from 'preact/hooks';
import { request } from '../api';
import ops from '../graphql/messages.graphql?raw';
import type { Message, RollCall as RollCallData } from '../generated/schema';
import type { Strings } from '../i18n';
import type { OutboxItem } from '../offline/store';
import { time } from '../time';
import { enablePush, pushEnabled, pushSupport } from './push';

export type MessageView = Pick<Message, 'id' | 'reference' | 'bodySv' | 'bodyEn' | 'exercise' | 'sentBy' | 'createdAt'>;
export interface ReceivedView {
  acknowledgedAt: string | null;
  message: MessageView;
}

/** How often the roll-call is asked for again while it is on screen. */
export const ROLL_CALL_POLL_MS = 4000;

const body = (m: MessageView) => (document.documentElement.lang === 'en' && m.bodyEn) || m.bodySv;

export function Messages({ t, received, outbox, onAcknowledge, mayFollowUp, token, online }: {
  t: Strings; received: ReceivedView[]; outbox: OutboxItem[]; onAcknowledge: (id: string) => void;
  mayFollowUp: boolean; token: string; online: boolean;
}) {
  const waiting = new Set(outbox.flatMap((o) => (o.kind === 'acknowledge' ? [o.messageId] : [])));
  return (
    <section>
      <h1>{t.messages}</h1>
      <PushPanel t={t} token={token} />
      {received.length === 0 && <p>{t.noMessages}</p>}
      <ul class="list" data-testid="messages">
        {received.map(({ message: m, acknowledgedAt }) => (
          <li key={m.id} class={`message${acknowledgedAt || waiting.has(m.id) ? '' : ' unread'}`} data-message={m.id}>
            <small>{m.exercise && <strong class="exercise">{t.exercise} · </strong>}{time(m.createdAt)} · {m.sentBy} · {m.reference}</small>
            <p>{body(m)}</p>
            {acknowledgedAt
              ? <p class="done" data-testid="acknowledged">✓ {t.acknowledgedAt(time(acknowledgedAt))}</p>
              : waiting.has(m.id)
                ? <p class="done" data-testid="acknowledge-pending">{t.acknowledgePending}</p>
                : <button class="primary" data-testid="acknowledge" onClick={() => onAcknowledge(m.id)}>{t.acknowledge}</button>}
          </li>
        ))}
      </ul>
      {mayFollowUp && <Sent t={t} token={token} online={online} />}
    </section>
  );
}

/** Turning on notifications, after the person presses the button (never by itself). */
function PushPanel({ t, token }: { t: Strings; token: string }) {
  const support = pushSupport();
  const [state, setState] = useState<'unknown' | 'off' | 'on' | 'denied' | 'failed' | 'busy'>('unknown');
  useEffect(() => {
    if (support !== 'supported') return;
    if (Notification.permission === 'denied') { setState('denied'); return; }
    void pushEnabled().then((on) => setState(on ? 'on' : 'off')).catch(() => setState('off'));
  }, [support]);
  if (support === 'needs-home-screen') return <p class="note" data-testid="push-home-screen">{t.pushHomeScreen}</p>;
  if (support === 'unsupported') return <p class="note" data-testid="push-unsupported">{t.pushUnsupported}</p>;
  if (state === 'on') return <p class="note" data-testid="push-on">{t.pushOn}</p>;
  if (state === 'denied') return <p class="note" data-testid="push-denied">{t.pushDenied}</p>;
  if (state === 'unknown') return null;
  const turnOn = async () => {
    setState('busy');
    try {
      const outcome = await enablePush(token);
      setState(outcome === 'enabled' ? 'on' : outcome === 'denied' ? 'denied' : 'failed');
    } catch {
      setState('failed');
    }
  };
  return (
    <div class="push" data-testid="push-offer">
      <p class="note">{t.pushHelp}</p>
      <button class="primary" data-testid="enable-push" disabled={state === 'busy'} onClick={() => void turnOn()}>{t.enablePush}</button>
      {state === 'failed' && <p class="note" role="alert">{t.pushFailed}</p>}
    </div>
  );
}

function Sent({ t, token, online }: { t: Strings; token: string; online: boolean }) {
  const [sent, setSent] = useState<Array<MessageView & { recipientCount: number }>>();
  useEffect(() => {
    if (!online) return;
    request<{ recentMessages: Array<MessageView & { recipientCount: number }> }>(ops, 'RecentMessages', {}, token)
      .then((data) => setSent(data.recentMessages))
      .catch(() => undefined);
  }, [token, online]);
  return (
    <>
      <h2>{t.rollCalls}</h2>
      {!online && <p class="note">{t.onlineOnly}</p>}
      <ul class="list" data-testid="sent-messages">
        {(sent ?? []).map((m) => (
          <li key={m.id}><a class="row" href={`#/messages/${m.id}`}>
            <strong>{m.reference} · {body(m).slice(0, 80)}</strong>
            <span>{time(m.createdAt)} · {t.recipients(m.recipientCount)}</span>
          </a></li>
        ))}
      </ul>
    </>
  );
}

const share = (part: number, whole: number) => (whole ? Math.round((100 * part) / whole) : 0);

export function RollCall({ t, id, token, online }: { t: Strings; id: string; token: string; online: boolean }) {
  const [data, setData] = useState<RollCallData>();
  const [message, setMessage] = useState<MessageView>();
  const [updated, setUpdated] = useState<string>();
  useEffect(() => {
    if (!online) return;
    let stopped = false;
    const load = () => request<{ rollCall: RollCallData; message: MessageView }>(ops, 'RollCall', { id }, token)
      .then((answer) => {
        if (stopped) return;
        setData(answer.rollCall);
        setMessage(answer.message);
        setUpdated(new Date().toISOString());
      })
      .catch(() => undefined);
    void load();
    const timer = setInterval(load, ROLL_CALL_POLL_MS);
    return () => { stopped = true; clearInterval(timer); };
  }, [id, token, online]);
  const overall = data?.overall;
  return (
    <article data-testid="roll-call">
      <a class="back" href="#/messages">← {t.back}</a>
      <h1>{t.rollCall}{message && ` ${message.reference}`}</h1>
      {message && (
        <blockquote class="quoted">
          <small>{message.exercise && <strong class="exercise">{t.exercise} · </strong>}{time(message.createdAt)} · {message.sentBy}</small>
          <p>{body(message)}</p>
        </blockquote>
      )}
      {!online && <p class="note">{t.onlineOnly}</p>}
      {overall && (<>
        <p class="big" data-testid="roll-call-overall">
          {t.reachedOf(overall.acknowledged + overall.delivered, overall.recipients)}
          {' '}({share(overall.acknowledged + overall.delivered, overall.recipients)} %)
        </p>
        <dl class="counts">
          <dt>{t.count.acknowledged}</dt><dd data-testid="count-acknowledged">{overall.acknowledged}</dd>
          <dt>{t.count.delivered}</dt><dd>{overall.delivered}</dd>
          <dt>{t.count.sent}</dt><dd>{overall.sent}</dd>
          <dt>{t.count.queued}</dt><dd>{overall.queued}</dd>
          <dt>{t.count.failed}</dt><dd>{overall.failed}</dd>
          <dt>{t.count.unreachable}</dt><dd>{overall.unreachable}</dd>
        </dl>
        {updated && <p class="note">{t.updatedAt(time(updated))}</p>}
        <h2>{t.perUnit}</h2>
        <table class="units">
          <thead><tr><th scope="col">{t.unit}</th><th scope="col">{t.count.reached}</th><th scope="col">{t.count.acknowledged}</th></tr></thead>
          <tbody>
            {data.units.map((u) => (
              <tr key={u.unit.id}><th scope="row">{u.unit.name}</th>
                <td>{u.counts.delivered + u.counts.acknowledged}/{u.counts.recipients}</td><td>{u.counts.acknowledged}</td></tr>
            ))}
          </tbody>
        </table>
        <h2>{t.notReached} ({data.notReached.length})</h2>
        <ul class="list" data-testid="not-reached">
          {data.notReached.map((p) => (
            <li key={p.id} class="row"><strong>{p.name}</strong>
              {p.phone ? <span class="actions"><a class="button" href={`tel:${p.phone}`}>{t.call}</a></span> : <span>{t.noPhone}</span>}
            </li>
          ))}
        </ul>
      </>)}
    </article>
  );
}
