// Web push for crisis messages: subscribing this browser once the person agrees,
// registering it with the server, and removing it at sign-out. The service worker
// (public/push-sw.js) shows the notifications; to acknowledge from one it needs the
// session token, which it cannot read from localStorage, so the token is handed to it
// in a small IndexedDB database of its own (`reserv-push`), removed at sign-out.
import { request } from '../api';
import ops from '../graphql/push.graphql?raw';

/** What this browser can do: push, push once on the home screen (iOS), or nothing. */
export type PushSupport = 'supported' | 'needs-home-screen' | 'unsupported';

const PUSH_DB = 'reserv-push';

function isIos(): boolean {
  return /iPad|iPhone|iPod/.test(navigator.userAgent)
    || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
}

function standalone(): boolean {
  return matchMedia('(display-mode: standalone)').matches
    || (navigator as Navigator & { standalone?: boolean }).standalone === true;
}

export function pushSupport(): PushSupport {
  // iOS offers push only to an app added to the home screen (iOS 16.4 and later).
  if (isIos() && !standalone()) return 'needs-home-screen';
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    return isIos() ? 'needs-home-screen' : 'unsupported';
  }
  return 'supported';
}

/** Whether this browser already has a subscription (push was turned on before). */
export async function pushEnabled(): Promise<boolean> {
  if (pushSupport() !== 'supported' || Notification.permission !== 'granted') return false;
  const registration = await navigator.serviceWorker.ready;
  return (await registration.pushManager.getSubscription()) != null;
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const text = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * Hands the session token to the service worker, for acknowledging from a
 * notification, and the person's language, for the notification's texts.
 */
export function rememberForWorker(token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(PUSH_DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('session');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction('session', 'readwrite');
      tx.objectStore('session').put(token, 'token');
      tx.objectStore('session').put(localStorage.getItem('reserv.language') ?? 'sv', 'language');
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    };
  });
}

export type EnableOutcome = 'enabled' | 'denied' | 'unavailable';

/**
 * Asks for permission (the person pressed the button), subscribes with the server's
 * VAPID key and registers the subscription for the signed-in person.
 */
export async function enablePush(token: string): Promise<EnableOutcome> {
  if (pushSupport() !== 'supported') return 'unavailable';
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return 'denied';
  const { pushPublicKey } = await request<{ pushPublicKey: string | null }>(ops, 'PushPublicKey', {}, token);
  if (!pushPublicKey) return 'unavailable';
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.getSubscription()
    ?? await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(pushPublicKey) });
  const json = subscription.toJSON();
  await request(ops, 'RegisterPushSubscription', {
    endpoint: subscription.endpoint, p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '',
  }, token);
  await rememberForWorker(token);
  return 'enabled';
}

/** At sign-out: the server forgets this browser, the browser its subscription, the worker the token. */
export async function disablePush(token: string): Promise<void> {
  try {
    if (pushSupport() === 'supported') {
      const registration = await navigator.serviceWorker.getRegistration();
      const subscription = await registration?.pushManager.getSubscription();
      if (subscription) {
        await request(ops, 'RemovePushSubscription', { endpoint: subscription.endpoint }, token).catch(() => undefined);
        await subscription.unsubscribe().catch(() => false);
      }
    }
  } finally {
    await new Promise<void>((resolve) => {
      const deleting = indexedDB.deleteDatabase(PUSH_DB);
      deleting.onsuccess = deleting.onerror = deleting.onblocked = () => resolve();
    });
  }
}
