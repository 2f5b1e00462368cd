// Who is asking. Devices prove themselves with their client certificate
// (mutual TLS; the certificate's fingerprint is in the registry) or, where a
// proxy terminates TLS, with their device token; people and programs with a
// bearer token: the admin, a household (its own meters only), a research
// user (aggregates only). Tokens are kept as SHA-256 hashes.

import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import type { CredentialStore, Device, Role } from './store';

export interface Caller {
  role: Role;
  /** The household of a household user or of a device. */
  householdId: string | null;
  device: Device | null;
  name: string;
}

export class HttpError extends Error {
  readonly status: number;
  readonly details?: unknown;
  constructor(status: number, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

function bearer(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]{16,200})$/.exec(h);
  if (!m) throw new HttpError(401, 'malformed Authorization header (Bearer TOKEN)');
  return m[1];
}

/** The caller, or an HttpError (401 unknown, 403 revoked). */
export async function identify(request: FastifyRequest, store: CredentialStore): Promise<Caller> {
  const socket = request.raw.socket as TLSSocket;
  const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : null;
  if (peer && Object.keys(peer).length) {
    if (!socket.authorized) throw new HttpError(401, `client certificate refused: ${String(socket.authorizationError)}`);
    const fingerprint = (peer.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
    const device = await store.deviceByFingerprint(fingerprint);
    if (!device) throw new HttpError(401, 'client certificate refused: no device is enrolled with it');
    if (device.revokedAt !== null) throw new HttpError(403, `device ${device.id} is revoked`);
    return { role: 'device', householdId: device.householdId, device, name: device.id };
  }
  const token = bearer(request);
  if (!token) throw new HttpError(401, 'authentication required: a client certificate (devices) or a bearer token');
  const device = await store.deviceByToken(token);
  if (device) {
    if (device.revokedAt !== null) throw new HttpError(403, `device ${device.id} is revoked`);
    return { role: 'device', householdId: device.householdId, device, name: device.id };
  }
  const c = await store.credential(token);
  if (!c) throw new HttpError(401, 'unknown token');
  return { role: c.kind, householdId: c.kind === 'household' ? c.subject : null, device: null, name: c.name };
}

export function allow(caller: Caller, ...roles: Role[]): void {
  if (!roles.includes(caller.role)) throw new HttpError(403, `this needs the ${roles.join(' or ')} role; the caller is ${caller.role}`);
}
