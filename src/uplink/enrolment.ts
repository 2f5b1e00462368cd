// The enrolment bundle: what the backend's admin hands out for a device (the
// backend URL, the CA to pin, the device id and its client certificate and
// key, or its token), and how the device takes it in: the credentials go to
// their own key-value entries, never into the settings object that the
// portal shows and the status page reports.

import type { KeyValuePort } from '../ports/kv';
import { fromBase64 } from '../codec/base64';
import { DEFAULT_LIVE_PUSH, DEFAULT_WINDOW, type UplinkSecrets, type UplinkSettings } from './settings';

export const UPLINK_CA = 'uplinkCa';
export const UPLINK_CERT = 'uplinkCert';
export const UPLINK_KEY = 'uplinkKey';
export const UPLINK_TOKEN = 'uplinkToken';

export class BundleError extends Error {}

/**
 * Reads a bundle (JSON text), stores its secrets, and returns the uplink
 * settings it gives (the delivery window and live interval stay as they were).
 * Throws BundleError.
 */
export function applyBundle(kv: KeyValuePort, json: string, keep: Pick<UplinkSettings, 'window' | 'live'> = { window: DEFAULT_WINDOW, live: DEFAULT_LIVE_PUSH }): UplinkSettings {
  let b: { [k: string]: unknown };
  try {
    b = JSON.parse(json) as { [k: string]: unknown };
  } catch {
    throw new BundleError('the bundle is not JSON');
  }
  if (!b || typeof b !== 'object' || b.version !== 1) throw new BundleError('not an enrolment bundle of version 1');
  const deviceId = b.deviceId;
  const url = b.url;
  if (typeof deviceId !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(deviceId)) throw new BundleError('bundle: bad deviceId');
  if (typeof url !== 'string' || !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(url)) throw new BundleError('bundle: bad url');
  const ca = typeof b.ca === 'string' ? fromBase64(b.ca) : null;
  if (!ca || ca.length < 100) throw new BundleError('bundle: no CA certificate');
  const auth = b.auth === 'token' ? 'token' : 'certificate';
  if (auth === 'certificate') {
    const certificate = typeof b.certificate === 'string' ? fromBase64(b.certificate) : null;
    const key = typeof b.key === 'string' ? fromBase64(b.key) : null;
    if (!certificate || certificate.length < 100 || !key || key.length < 100) throw new BundleError('bundle: no client certificate and key');
    kv.set(UPLINK_CERT, certificate);
    kv.set(UPLINK_KEY, key);
    kv.delete(UPLINK_TOKEN);
  } else {
    if (typeof b.token !== 'string' || b.token.length < 16) throw new BundleError('bundle: no token');
    kv.set(UPLINK_TOKEN, b.token);
    kv.delete(UPLINK_CERT);
    kv.delete(UPLINK_KEY);
  }
  kv.set(UPLINK_CA, ca);
  return { url, deviceId, auth, window: keep.window, live: keep.live };
}

export function loadUplinkSecrets(kv: KeyValuePort): UplinkSecrets {
  return { ca: kv.getBytes(UPLINK_CA) ?? null, certificate: kv.getBytes(UPLINK_CERT) ?? null, key: kv.getBytes(UPLINK_KEY) ?? null, token: kv.get(UPLINK_TOKEN) ?? null };
}
