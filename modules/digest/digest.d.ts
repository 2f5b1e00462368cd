declare module 'digest' {
  /** SHA-256 of `data` (32 bytes), on the ESP32's SHA accelerator. */
  export function sha256(data: ArrayBuffer | Uint8Array): ArrayBuffer;
  /** PBKDF2 with HMAC-SHA-256 (RFC 8018); `length` 1..255 bytes. */
  export function pbkdf2(password: ArrayBuffer | Uint8Array, salt: ArrayBuffer | Uint8Array, iterations: number, length: number): ArrayBuffer;
  /** `length` (0..4096) bytes from the hardware random number generator. */
  export function random(length: number): ArrayBuffer;
}
