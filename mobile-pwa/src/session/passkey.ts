// Passkeys in the browser. The server speaks WebAuthn's JSON form (`{"publicKey": …}`
// with binary fields in unpadded base64url, as webauthn-rs writes and reads them);
// `navigator.credentials` wants and gives ArrayBuffers. These two functions translate.

type Json = Record<string, any>;

function bytes(base64url: string): ArrayBuffer {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
}

function base64url(buffer: ArrayBuffer): string {
  let binary = '';
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const withIds = (list: Json[] | undefined) => (list ?? []).map((c) => ({ ...c, id: bytes(c.id) }));

/** Whether this browser can use passkeys at all. */
export const passkeysSupported = () => typeof window !== 'undefined' && 'PublicKeyCredential' in window;

/** `navigator.credentials.create` with the server's options; the new credential as JSON for the server. */
export async function createPasskey(optionsJson: string): Promise<string> {
  const { publicKey } = JSON.parse(optionsJson) as { publicKey: Json };
  const credential = (await navigator.credentials.create({
    publicKey: {
      ...publicKey,
      challenge: bytes(publicKey.challenge),
      user: { ...publicKey.user, id: bytes(publicKey.user.id) },
      excludeCredentials: withIds(publicKey.excludeCredentials),
    } as PublicKeyCredentialCreationOptions,
  })) as PublicKeyCredential | null;
  if (!credential) throw new Error('no passkey was created');
  const response = credential.response as AuthenticatorAttestationResponse;
  return JSON.stringify({
    id: credential.id,
    rawId: base64url(credential.rawId),
    type: credential.type,
    response: {
      attestationObject: base64url(response.attestationObject),
      clientDataJSON: base64url(response.clientDataJSON),
    },
    extensions: {},
  });
}

/** `navigator.credentials.get` with the server's options; the signed assertion as JSON for the server. */
export async function signWithPasskey(optionsJson: string): Promise<string> {
  const { publicKey } = JSON.parse(optionsJson) as { publicKey: Json };
  const credential = (await navigator.credentials.get({
    publicKey: {
      ...publicKey,
      challenge: bytes(publicKey.challenge),
      allowCredentials: withIds(publicKey.allowCredentials),
    } as PublicKeyCredentialRequestOptions,
  })) as PublicKeyCredential | null;
  if (!credential) throw new Error('no passkey was used');
  const response = credential.response as AuthenticatorAssertionResponse;
  return JSON.stringify({
    id: credential.id,
    rawId: base64url(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: base64url(response.authenticatorData),
      clientDataJSON: base64url(response.clientDataJSON),
      signature: base64url(response.signature),
      userHandle: response.userHandle ? base64url(response.userHandle) : null,
    },
    extensions: {},
  });
}
