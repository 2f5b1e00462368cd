// The release keys this firmware accepts updates from: the public halves only
// (their private halves are kept offline: docs/ota.md). An image is checked
// against the key its header names by id; two keys here let a release key be
// rotated (images signed by the new one are accepted by firmware that still
// knows the old one, then a release drops the old one).
//
// `smgw release keygen` prints the entry for a new key. None is here until the
// project's keeper adds theirs: a firmware built without one accepts no update
// at all, rather than one signed by a key somebody committed with its secret.

export interface ReleaseKey {
  /** Hex of the first 8 bytes of SHA-256 of the public point: what a header names. */
  id: string;
  /** Hex of the uncompressed P-256 public point (04 || x || y, 65 bytes). */
  publicKey: string;
  /** Who holds it and since when, for the reader of this file. */
  note: string;
}

export const RELEASE_KEYS: readonly ReleaseKey[] = [];
