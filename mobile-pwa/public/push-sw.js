// Web push in the service worker (imported by the Workbox worker through importScripts).
// A push carries {messageId, reference, title, body}; the server leaves the body out
// above confidentiality 1. The notification's "Kvittera" action acknowledges the message
// with the session token the app handed over (IndexedDB `reserv-push`); without network,
// or with a lapsed session, the acknowledgement goes into the app's outbox (IndexedDB
// `reserv`, store `outbox`, the shape src/offline/store.ts defines) and is sent by the
// app on its next sync. Plain JavaScript: Workbox's generated worker imports it as is.
/* eslint-env serviceworker */

const OUTBOX_DB = 'reserv';
const OUTBOX_VERSION = 1;
const PUSH_DB = 'reserv-push';


function openDb(name, version, upgrade) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name, version);
    open.onupgradeneeded = () => upgrade(open.result);
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

/** What the app handed over: `token` (the session) or `language` (sv, en). */
async function stored(key) {
  const db = await openDb(PUSH_DB, 1, (created) => created.createObjectStore('session'));
  try {
    return await new Promise((resolve) => {
      const read = db.transaction('session').objectStore('session').get(key);
      read.onsuccess = () => resolve(read.result);
      read.onerror = () => resolve(undefined);
    });
  } finally {
    db.close();
  }
}

/** Queues the acknowledgement as the app's own queueAcknowledgement would. */
async function queueAcknowledgement(messageId) {
  // Created as the app creates it, should the app not have opened it yet.
  const db = await openDb(OUTBOX_DB, OUTBOX_VERSION, (created) => {
    created.createObjectStore('snapshot');
    created.createObjectStore('outbox', { keyPath: 'clientId' });
  });
  try {
    await new Promise((resolve, reject) => {
      const tx = db.transaction('outbox', 'readwrite');
      const store = tx.objectStore('outbox');
      const all = store.getAll();
      all.onsuccess = () => {
        const waiting = all.result.some((o) => o.kind === 'acknowledge' && o.messageId === messageId && o.state === 'pending');
        if (!waiting) {
          store.put({ kind: 'acknowledge', messageId, clientId: crypto.randomUUID(), createdAt: new Date().toISOString(), state: 'pending' });
        }
      };
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

async function acknowledge(messageId) {
  const token = await stored('token');
  if (token) {
    try {
      const response = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: 'mutation AcknowledgeMessage($id: ID!) { acknowledgeMessage(id: $id) { id } }',
          operationName: 'AcknowledgeMessage',
          variables: { id: messageId },
        }),
      });
      const body = response.ok ? await response.json() : undefined;
      if (body && !body.errors) return;
    } catch {
      // No network: queued below.
    }
  }
  await queueAcknowledgement(messageId);
}

self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = {};
  }
  event.waitUntil(stored('language').catch(() => 'sv').then((language) => show(message, language === 'en')));
});

function show(message, en) {
  const title = message.title || (en ? 'Crisis message' : 'Krismeddelande');
  const options = {
    body: message.body || (en ? 'New message from the crisis management team' : 'Nytt meddelande från krisledningen'),
    tag: message.messageId || 'reserv',
    renotify: true,
    requireInteraction: true,
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    data: { messageId: message.messageId, reference: message.reference },
    actions: message.messageId ? [{ action: 'acknowledge', title: en ? 'Acknowledge' : 'Kvittera' }] : [],
  };
  return self.registration.showNotification(title, options);
}

self.addEventListener('notificationclick', (event) => {
  const { messageId } = event.notification.data || {};
  event.notification.close();
  if (event.action === 'acknowledge' && messageId) {
    event.waitUntil(acknowledge(messageId));
    return;
  }
  const url = new URL('/#/messages', self.location.origin).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
    if (open) {
      await open.focus();
      if ('navigate' in open) await open.navigate(url).catch(() => undefined);
      return;
    }
    await self.clients.openWindow(url);
  })());
});

// For tests and the app: acknowledge as the notification action does.
self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'reserv-acknowledge' && event.data.messageId) {
    event.waitUntil(acknowledge(String(event.data.messageId)));
  }
});
