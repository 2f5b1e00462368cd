// Why a telegram was rejected. The reason is a class a device can count and a
// user can act on (the portal turns "crc" into "check the dongle's position");
// the message says it in words.

export type RejectReason =
  | 'crc' // checksum or CRC mismatch: bit errors on the line
  | 'truncated' // the telegram ended early
  | 'overflow' // longer than any telegram this decoder accepts
  | 'framing' // bytes that break the protocol's framing rules
  | 'key-missing' // encrypted, and no key configured
  | 'wrong-key' // decryption gave no valid data
  | 'auth' // authentication tag mismatch
  | 'structure' // the content is not what the protocol defines
  | 'unsupported' // valid, but a feature this decoder does not implement
  | 'replay' // a DLMS frame counter that did not increase
  | 'internal'; // a decoder fault: input it should have rejected cleanly (a bug to fix)

export class DecodeError extends Error {
  readonly reason: RejectReason;
  constructor(reason: RejectReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export function reject(reason: RejectReason, message: string): never {
  throw new DecodeError(reason, message);
}
