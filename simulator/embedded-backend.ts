// The backend a simulation runs for its device (`--backend embedded`): started
// in this process, on the run's virtual clock, its database and certificates
// in the state directory. This is the one module of the simulator that uses
// backend/ (the layer rules in .dependency-cruiser.cjs allow no other), and it
// loads the backend only when a run asks for it.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { RunningBackend } from '../backend/main';

/** The embedded backend while the run lasts (tests reach its app, store and broker through it). */
export type EmbeddedBackend = RunningBackend;

/** Admin request headers, with the backend's admin token. */
type AdminHeaders = { [header: string]: string };

/**
 * Starts the backend with its files in `dir` (SQLite `dir/backend.db` unless `db` says otherwise; the
 * admin token made on the first start kept in `dir/pki/admin-token`, mode 0600). `mqtt`: 'embedded', the
 * backend's own broker; or a broker's URL it subscribes to.
 */
export async function startEmbeddedBackend(dir: string, o: { db?: string; port?: number; now: () => number; mqtt?: string }): Promise<{ backend: EmbeddedBackend; admin: AdminHeaders }> {
  const { startBackend } = await import('../backend/main');
  const tokenFile = join(dir, 'pki', 'admin-token');
  const adminToken = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : randomBytes(24).toString('base64url');
  const backend = await startBackend({
    db: o.db ?? `sqlite:${join(dir, 'backend.db')}`,
    port: o.port ?? 0,
    host: '127.0.0.1',
    data: join(dir, 'pki'),
    adminToken,
    tls: true,
    hostnames: ['localhost', '127.0.0.1'],
    logger: false,
    now: o.now,
    mqtt: o.mqtt ? (o.mqtt === 'embedded' ? { port: 0 } : { url: o.mqtt }) : undefined,
  });
  if (!existsSync(tokenFile)) writeFileSync(tokenFile, adminToken + '\n', { mode: 0o600 });
  return { backend, admin: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' } };
}

/**
 * The household of the state's device, with a token for it in `pki/household-token` (mode 0600): the
 * household the device is enrolled in, else the one an earlier run's token opens, else a new one. A
 * device enrolled before the simulator kept this token (by hand, with the admin's curl) gets a token
 * for its household here.
 */
export async function ensureHousehold(backend: EmbeddedBackend, pki: string, admin: AdminHeaders, zone: string, deviceId: string): Promise<string> {
  const store = backend.store;
  const tokenFile = join(pki, 'household-token');
  const enrolledIn = deviceId ? ((await store.device(deviceId))?.householdId ?? null) : null;
  const credential = existsSync(tokenFile) ? await store.credential(readFileSync(tokenFile, 'utf8').trim()) : null;
  const opens = credential?.kind === 'household' && credential.subject && (await store.household(credential.subject)) ? credential.subject : null;
  if (opens && (enrolledIn === null || opens === enrolledIn)) return opens;
  if (enrolledIn) {
    const { newToken } = await import('../backend/store');
    const token = newToken();
    await store.addCredential(token, { kind: 'household', subject: enrolledIn, name: 'simulator' });
    writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
    return enrolledIn;
  }
  const household = await backend.app.inject({ method: 'POST', url: '/api/v1/admin/households', headers: admin, payload: { name: 'Simulated household', zone } });
  if (household.statusCode !== 201) throw new Error('embedded backend: ' + household.body);
  writeFileSync(tokenFile, household.json().token + '\n', { mode: 0o600 });
  return household.json().household.id as string;
}
