// Whether a signed image may be installed, from its header alone: the
// signature under a compiled-in release key, the target hardware, the size
// against the slot, and the version against the one running (older only when
// the backend's admin forced a downgrade). Checked before a byte is written;
// the image's hash is checked against the header once it is written.

import type { CryptoPort } from '../ports/crypto';
import { fromHex, toHex } from '../codec/bytes';
import { compareVersions, ImageError, parseHeader, parseVersion, SIGNED_LENGTH, type ImageHeader } from './image';
import type { ReleaseKey } from './release-keys';

export interface InstallContext {
  crypto: CryptoPort;
  keys: readonly ReleaseKey[];
  hardware: string;
  slotSize: number;
  /** The version running now. */
  running: string;
  /** The backend's admin allowed an older (or the same) version for this device. */
  downgrade: boolean;
}

/** The header of a signed image that may be installed; throws an ImageError saying why not. */
export function acceptHeader(bytes: Uint8Array, c: InstallContext): ImageHeader {
  const h = parseHeader(bytes);
  const keyId = toHex(h.keyId);
  let key: Uint8Array | null = null;
  for (const k of c.keys) if (k.id === keyId) key = fromHex(k.publicKey);
  if (!key) {
    throw new ImageError(c.keys.length ? `signed by key ${keyId}, unknown to this firmware` : `signed by key ${keyId}; this firmware has no release key`);
  }
  if (!c.crypto.verifyP256(key, bytes.subarray(0, SIGNED_LENGTH), h.signature)) throw new ImageError(`the signature does not verify under key ${keyId}: altered or not signed by it`);
  if (h.hardware !== c.hardware) throw new ImageError(`it is for ${h.hardware}, this device is ${c.hardware}`);
  if (h.size === 0 || h.size > c.slotSize) throw new ImageError(`${h.size} bytes, the slot takes ${c.slotSize}`);
  const running = parseVersion(c.running);
  const order = running ? compareVersions(h.version, running) : 1;
  if (order <= 0 && !c.downgrade) {
    throw new ImageError(`${order === 0 ? 'it is the version running' : `older than ${c.running} (running)`}; only the backend's admin can force a downgrade`);
  }
  return h;
}
