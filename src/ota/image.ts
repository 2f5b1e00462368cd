// The signed firmware image: a 192-byte header in front of the app image that
// `mcconfig` builds (the app partition's bytes, as esptool would flash them).
// docs/ota.md describes it. Shared by the device (which checks it), the
// command line (which writes it: `smgw release sign`) and the backend (which
// stores it). All integers are little-endian.
//
//   0   8  magic "SMGW-FW" + format 1
//   8   2  header length (192)
//  10   2  flags (none defined: must be 0)
//  12   6  version major, minor, patch (u16 each)
//  18   2  reserved (0)
//  20  16  target hardware, ASCII, zero-padded ("esp32", "lin", "sim")
//  36   4  image size in bytes
//  40  32  SHA-256 of the image
//  72   8  key id: the first 8 bytes of SHA-256 of the signing key's public point
//  80   4  signed at (Unix seconds; informative)
//  84  44  reserved (0)
// 128  64  ECDSA P-256 signature, r || s, over SHA-256 of bytes 0..127
//
// The signature covers the header, and the header holds the image's hash:
// the device checks the signature before it writes a byte, and the hash of
// what it wrote before it boots it.

import { toHex } from '../codec/bytes';

export const HEADER_LENGTH = 192;
export const SIGNED_LENGTH = 128;
const KEY_ID_LENGTH = 8;
const FORMAT = 1;
const MAGIC = [0x53, 0x4d, 0x47, 0x57, 0x2d, 0x46, 0x57, FORMAT]; // "SMGW-FW" 1
const HARDWARE_LENGTH = 16;

export interface Version {
  major: number;
  minor: number;
  patch: number;
}

export interface ImageHeader {
  version: Version;
  hardware: string;
  size: number;
  sha256: Uint8Array;
  keyId: Uint8Array;
  signedAt: number;
  signature: Uint8Array;
}

/** Why an image is refused, in words a user can act on. */
export class ImageError extends Error {}

/** "1.2.3" as a version, or null (no pre-release or build suffix: the device compares numbers). */
export function parseVersion(text: string): Version | null {
  const m = /^(\d{1,5})\.(\d{1,5})\.(\d{1,5})$/.exec(text);
  if (!m) return null;
  const v = { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
  return v.major > 0xffff || v.minor > 0xffff || v.patch > 0xffff ? null : v;
}

export function versionText(v: Version): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** Negative when a is older than b, 0 when the same, positive when newer. */
export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

function u16(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >> 8) & 0xff;
}

function put32(b: Uint8Array, at: number, v: number): void {
  put16(b, at, v & 0xffff);
  put16(b, at + 2, (v >>> 16) & 0xffff);
}

/**
 * Reads a header from the first 192 bytes of a signed image. Throws an
 * ImageError when they are not one; the signature is not checked here.
 */
export function parseHeader(b: Uint8Array): ImageHeader {
  if (b.length < HEADER_LENGTH) throw new ImageError(`not a signed smgw-lite image: ${b.length} bytes, the header alone is ${HEADER_LENGTH}`);
  for (let i = 0; i < 7; i++) if (b[i] !== MAGIC[i]) throw new ImageError('not a signed smgw-lite image (no SMGW-FW header): sign it with `smgw release sign`');
  if (b[7] !== FORMAT) throw new ImageError(`image header format ${b[7]}: this firmware reads format ${FORMAT} only`);
  if (u16(b, 8) !== HEADER_LENGTH) throw new ImageError(`image header length ${u16(b, 8)}, expected ${HEADER_LENGTH}`);
  if (u16(b, 10) !== 0) throw new ImageError(`image header flags ${u16(b, 10)}: none are defined`);
  let hardware = '';
  for (let i = 0; i < HARDWARE_LENGTH; i++) {
    const c = b[20 + i];
    if (c === 0) break;
    if (c < 0x21 || c > 0x7e) throw new ImageError('image header: the target hardware is not printable ASCII');
    hardware += String.fromCharCode(c);
  }
  if (!hardware) throw new ImageError('image header names no target hardware');
  return {
    version: { major: u16(b, 12), minor: u16(b, 14), patch: u16(b, 16) },
    hardware,
    size: u32(b, 36),
    sha256: b.slice(40, 72),
    keyId: b.slice(72, 80),
    signedAt: u32(b, 80),
    signature: b.slice(SIGNED_LENGTH, HEADER_LENGTH),
  };
}

/** The signed part of a header (bytes 0..127) for these fields; the signature goes after it. */
export function encodeSignedPart(h: Omit<ImageHeader, 'signature'>): Uint8Array {
  if (h.hardware.length < 1 || h.hardware.length > HARDWARE_LENGTH || !/^[\x21-\x7e]+$/.test(h.hardware)) {
    throw new ImageError(`target hardware must be 1..${HARDWARE_LENGTH} printable ASCII characters`);
  }
  if (h.sha256.length !== 32 || h.keyId.length !== KEY_ID_LENGTH) throw new ImageError('image header: hash or key id of the wrong length');
  const b = new Uint8Array(SIGNED_LENGTH);
  for (let i = 0; i < 8; i++) b[i] = MAGIC[i];
  put16(b, 8, HEADER_LENGTH);
  put16(b, 12, h.version.major);
  put16(b, 14, h.version.minor);
  put16(b, 16, h.version.patch);
  for (let i = 0; i < h.hardware.length; i++) b[20 + i] = h.hardware.charCodeAt(i);
  put32(b, 36, h.size);
  b.set(h.sha256, 40);
  b.set(h.keyId, 72);
  put32(b, 80, h.signedAt);
  return b;
}

/** What a header says, in short (an event's message holds at most 160 bytes). */
export function describeHeader(h: ImageHeader): string {
  return `${versionText(h.version)} (${h.hardware}, ${h.size} B, key ${toHex(h.keyId)})`;
}
