// The GraphQL client: queries over fetch with the session's bearer token, subscriptions
// over graphql-ws. Failures are told apart because the outbox treats them differently:
// an unreachable server means "try later", a GraphQL error means "refused".
import { createClient, type Client } from 'graphql-ws';
import { Unreachable } from './offline/outbox';

export class Refused extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}

/** Runs `operationName` from a `.graphql` document (documents hold several operations). */
export async function request<T>(document: string, operationName: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: document, operationName, variables }),
    });
  } catch {
    throw new Unreachable('offline');
  }
  if (response.status >= 500) throw new Unreachable(`server answered ${response.status}`);
  const body = (await response.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (body.errors?.length) {
    const [first] = body.errors;
    throw new Refused(first.message, first.extensions?.code);
  }
  return body.data as T;
}

let socket: Client | undefined;

export function subscriptions(token: string): Client {
  if (!socket) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = createClient({ url: `${scheme}://${location.host}/graphql/ws`, connectionParams: { token }, lazy: true });
  }
  return socket;
}

export function closeSubscriptions(): void {
  void socket?.dispose();
  socket = undefined;
}
