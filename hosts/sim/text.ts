// Native byte-to-text decoding on Node: Buffer's latin1 is exactly ISO 8859-1
// (each byte to the code point of the same value), as the firmware's own
// decoder is. (TextDecoder's "latin1" is windows-1252, which is not.)

import { useLatin1Decoder } from '../../src/codec/bytes';

export function installNodeText(): void {
  useLatin1Decoder((bytes, start, end) => Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1'));
}
