// DLMS general-glo-ciphering (Green Book, 9.2.7): DB 08 <system title>
// <length> <security control> <frame counter> <ciphertext> [<12-byte tag>],
// AES-GCM-128 with IV = system title || frame counter.

import { concat, latin1, readUint32, toHex } from '../../codec/bytes';
import { TagMismatch } from '../../ports/crypto';
import { reject } from '../errors';
import type { Security } from '../reading';
import type { Keys } from '../keys';

export const GLO_CIPHERING = 0xdb;
const TAG_LENGTH = 12;

/** Security control bits. */
const AUTHENTICATED = 0x10;
const ENCRYPTED = 0x20;
const SUITE = 0x0f;

/** Bytes before the content: DB, 08, the system title and the length field (1, 2 or 3 bytes). */
function headerLength(first: number): number {
  return first < 0x80 ? 11 : first === 0x81 ? 12 : first === 0x82 ? 13 : -1;
}

/**
 * Length of the general-glo-ciphering frame at b[at] (whole frame, header
 * included); 0 when more bytes are needed to tell; -1 when it is not one.
 */
export function gloFrameLength(b: Uint8Array, at: number, len: number): number {
  if (b[at] !== GLO_CIPHERING) return -1;
  if (at + 2 > len) return 0;
  if (b[at + 1] !== 8) return -1;
  if (at + 11 > len) return 0;
  const header = headerLength(b[at + 10]);
  if (header < 0) return -1;
  if (at + header > len) return 0;
  const content = header === 11 ? b[at + 10] : header === 12 ? b[at + 11] : (b[at + 11] << 8) | b[at + 12];
  return header + content;
}

/** A system title as meters print it: three-letter manufacturer id, then the rest in hex ("KFM6750000881"). */
function formatSystemTitle(b: Uint8Array, at: number): string {
  let letters = true;
  for (let i = at; i < at + 3; i++) if (b[i] < 0x41 || b[i] > 0x5a) letters = false;
  return letters ? latin1(b, at, at + 3) + toHex(b, at + 3, at + 8).toUpperCase() : toHex(b, at, at + 8).toUpperCase();
}


export interface Deciphered {
  plaintext: Uint8Array;
  security: Security;
  systemTitle: string;
  frameCounter: number;
}

/** Deciphers a whole general-glo-ciphering frame. */
export function decipher(frame: Uint8Array, keys: Keys): Deciphered {
  const total = gloFrameLength(frame, 0, frame.length);
  if (total < 0) reject('structure', 'not a DLMS general-glo-ciphering frame');
  if (total === 0 || total > frame.length) reject('truncated', 'truncated encrypted frame: fewer bytes than its length field says');
  if (total < frame.length) reject('framing', 'encrypted frame is followed by extra bytes');
  const header = headerLength(frame[10]);
  if (total - header < 5) reject('structure', 'encrypted frame too short for its security header');
  const sc = frame[header];
  const systemTitle = formatSystemTitle(frame, 2);
  const frameCounter = readUint32(frame, header + 1);
  if ((sc & SUITE) > 1) reject('unsupported', `DLMS security suite ${sc & SUITE} is not supported (suites 0 and 1 are AES-GCM-128)`);
  const encrypted = (sc & ENCRYPTED) !== 0;
  const tagged = (sc & AUTHENTICATED) !== 0;
  if (!encrypted && !tagged) reject('unsupported', `DLMS security control 0x${sc.toString(16)} protects nothing`);
  const bodyEnd = tagged ? total - TAG_LENGTH : total;
  if (bodyEnd < header + 5) reject('truncated', 'encrypted frame too short for its authentication tag');
  const body = frame.subarray(header + 5, bodyEnd);
  const key = keys.encryption;
  if (encrypted && !key) reject('key-missing', `the meter encrypts its data (system title ${systemTitle}): a decryption key is needed`);
  const iv = new Uint8Array(12);
  iv.set(frame.subarray(2, 10), 0);
  iv.set(frame.subarray(header + 1, header + 5), 8);
  const ak = keys.authentication;
  let plaintext = body;
  let authenticated = false;
  if (tagged && ak && key) {
    // With the authentication key the tag must verify. AAD = SC || AK, and for
    // authentication-only frames the plaintext follows in the AAD (GMAC).
    const tag = frame.subarray(bodyEnd, total);
    const aad = concat(Uint8Array.of(sc), ak);
    try {
      if (encrypted) plaintext = key.gcmDecrypt(iv, body, aad, tag);
      else key.gcmDecrypt(iv, new Uint8Array(0), concat(aad, body), tag);
    } catch (e) {
      if (e instanceof TagMismatch) reject('auth', 'authentication tag mismatch: wrong keys, or the frame was altered');
      throw e;
    }
    authenticated = true;
  } else if (encrypted && key) {
    plaintext = key.gcmKeystream(iv, body);
  }
  return { plaintext, security: { encrypted, authenticated }, systemTitle, frameCounter };
}
