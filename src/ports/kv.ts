// Key-value port: small settings that survive power cuts (NVS on the ESP32).
// Keys are at most 15 characters (the NVS limit); values are text or bytes.

export const MAX_KEY_LENGTH = 15;

export interface KeyValuePort {
  get(key: string): string | undefined;
  getBytes(key: string): Uint8Array | undefined;
  set(key: string, value: string | Uint8Array): void;
  delete(key: string): void;
  keys(): string[];
}
