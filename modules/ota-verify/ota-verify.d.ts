declare module 'ota-verify' {
  /** Whether `signature` (r || s, 64 bytes) is an ECDSA P-256 signature over SHA-256 of `message` under `publicKey` (04 || x || y). */
  export function verifyP256(publicKey: ArrayBuffer | Uint8Array, message: ArrayBuffer | Uint8Array, signature: ArrayBuffer | Uint8Array): boolean;
  /** SHA-256 fed piece by piece; digest() ends it. */
  export class Sha256Stream {
    constructor();
    update(data: ArrayBuffer | Uint8Array): void;
    digest(): ArrayBuffer;
  }
}
