// The portal's local firmware update (docs/ota.md): the owner uploads a
// signed image file, and the page sends it in pieces the device's HTTP server
// holds in RAM (the header first, then 4 KB at a time), through the same
// checks as an update from the backend (src/ota/updater.ts): the header's
// signature, hardware, size and version before anything is written, the
// written slot's SHA-256 at the end. Only then does the device restart into it.

import type { PortalState } from './state';
import type { Router } from './router';
import { HttpError, json, numberParam } from './http';
import { ImageError, HEADER_LENGTH, versionText } from '../ota/image';

/** Bytes per piece the page sends: one flash sector, held whole in the device's RAM (the Moddable host takes bodies up to 16 KB). */
const UPDATE_PIECE = 4 * 1024;
/** Time for the answer to leave before the device restarts. */
const RESTART_DELAY_MS = 500;

function bytesOf(body: Uint8Array | null, max: number): Uint8Array {
  if (!body || body.length === 0) throw new HttpError(400, 'send the bytes as the request body (application/octet-stream)');
  if (body.length > max) throw new HttpError(413, `at most ${max} bytes per request`);
  return body;
}

export function registerUpdateRoutes(router: Router, portal: PortalState): void {
  const g = portal.gateway;
  const updater = () => {
    if (!g.updater) throw new HttpError(503, 'the gateway is not running');
    return g.updater;
  };
  const refused = (e: unknown): never => {
    if (e instanceof ImageError) throw new HttpError(422, e.message);
    throw e;
  };

  router.add('GET', '/api/firmware', 'session', () => json(200, { ...updater().status(), piece: UPDATE_PIECE }));
  // The first 192 bytes of the file: checked at once (signature, hardware, size, version).
  router.add('POST', '/api/firmware/begin', 'session', (ctx) => {
    const body = bytesOf(ctx.request.body, HEADER_LENGTH);
    if (body.length !== HEADER_LENGTH) throw new HttpError(400, `send the file's first ${HEADER_LENGTH} bytes (its signed header) first`);
    try {
      const h = updater().localBegin(body);
      return json(200, { version: versionText(h.version), hardware: h.hardware, size: h.size, at: 0, piece: UPDATE_PIECE });
    } catch (e) {
      return refused(e);
    }
  });
  router.add('POST', '/api/firmware/piece', 'session', (ctx) => {
    const offset = numberParam(ctx.query, 'offset', -1);
    try {
      return json(200, { at: updater().localWrite(offset, bytesOf(ctx.request.body, UPDATE_PIECE)) });
    } catch (e) {
      return refused(e);
    }
  });
  router.add('POST', '/api/firmware/finish', 'session', () => {
    let version: string;
    try {
      version = updater().localFinish();
    } catch (e) {
      return refused(e);
    }
    g.prepareRestart(`update to ${version}`);
    g.ports.clock.after(RESTART_DELAY_MS, () => {
      g.stop();
      g.ports.system.restart();
    });
    return json(202, { version, restarting: true });
  });
  router.add('POST', '/api/firmware/cancel', 'session', () => {
    updater().localCancel();
    return json(200, { cancelled: true });
  });
}
