// One meter's byte stream in, readings out: the framer for the protocol, then
// the telegram decoder. Nothing thrown by a telegram escapes: every telegram
// ends as a reading or as a rejection with its reason.

import type { CryptoPort } from '../ports/crypto';
import { DEFAULT_ZONE } from '../time/zone';
import { DecodeError } from './errors';
import { Framer, type FrameSink } from './framer';
import type { Reading, TelegramProtocol } from './reading';
import { SmlFramer } from './sml/framer';
import { decodeSml } from './sml/decode';
import { D0Framer } from './iec/d0-framer';
import { decodeD0 } from './iec/d0';
import { DsmrFramer } from './iec/dsmr-framer';
import { decodeDsmr } from './iec/dsmr';
import { DlmsFramer, type DlmsTransport } from './dlms/framer';
import { decodeDlms } from './dlms/decode';
import type { Keys } from './keys';
import { MbusFramer } from './mbus/framer';
import { decodeMbus } from './mbus/decode';
import { MBUS_START } from './mbus/link';

export interface DecoderOptions {
  protocol: TelegramProtocol;
  /** AES-128 decryption key (DLMS, encrypted P1, M-Bus OMS mode 5). */
  key?: Uint8Array | null;
  /** AES-128 authentication key: when given, tags must verify. */
  authKey?: Uint8Array | null;
  /** Required when a key is given. */
  crypto?: CryptoPort;
  /** Zone for meter clocks that carry local time. */
  zone?: string;
  /** DLMS only: the link layer, or 'auto' to take the first one seen. */
  transport?: DlmsTransport;
}

export interface DecodeSink {
  reading(reading: Reading, telegram: Uint8Array): void;
  rejected(error: DecodeError, telegram: Uint8Array | null): void;
  /** The meter waits for a confirmation of the frame just checked (M-Bus E5, see FrameSink.confirm). */
  confirm?(): void;
}

export interface TelegramContext {
  keys: Keys;
  zone: string;
}

/** Decodes one complete telegram (as a framer delivers it). Throws DecodeError. */
function decodeTelegram(protocol: TelegramProtocol, telegram: Uint8Array, context: TelegramContext): Reading {
  switch (protocol) {
    case 'sml': return decodeSml(telegram);
    case 'd0': return decodeD0(telegram, context.zone);
    case 'dsmr': return decodeDsmr(telegram, context);
    // The DLMS framer hands on a whole M-Bus frame (68 ...) when its CI says EN 13757-3; an APDU never starts so.
    case 'dlms': return telegram[0] === MBUS_START ? decodeMbus(telegram, context) : decodeDlms(telegram, context);
    case 'mbus': return decodeMbus(telegram, context);
  }
}

/** Turns anything a decoder threw into a DecodeError: a non-DecodeError is a decoder bug, reported, not fatal. */
function asDecodeError(e: unknown): DecodeError {
  if (e instanceof DecodeError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new DecodeError('internal', 'decoder fault: ' + message);
}

export class MeterDecoder {
  readonly protocol: TelegramProtocol;
  private readonly framer: Framer;
  private readonly context: TelegramContext;

  constructor(options: DecoderOptions, sink: DecodeSink) {
    this.protocol = options.protocol;
    const key = options.key ?? null;
    if (key && !options.crypto) throw new TypeError('a key needs a crypto port');
    if (key && key.length !== 16) throw new RangeError('the decryption key must be 16 bytes (32 hex digits)');
    if (options.authKey && options.authKey.length !== 16) throw new RangeError('the authentication key must be 16 bytes (32 hex digits)');
    this.context = {
      keys: {
        encryption: key && options.crypto ? options.crypto.importKey(key) : null,
        authentication: options.authKey ? options.authKey.slice() : null,
      },
      zone: options.zone ?? DEFAULT_ZONE,
    };
    const frames: FrameSink = {
      frame: (telegram) => {
        let reading: Reading;
        try {
          reading = decodeTelegram(this.protocol, telegram, this.context);
        } catch (e) {
          sink.rejected(asDecodeError(e), telegram);
          return;
        }
        sink.reading(reading, telegram);
      },
      reject: (error) => sink.rejected(error, null),
      confirm: sink.confirm ? () => sink.confirm?.() : undefined,
    };
    switch (options.protocol) {
      case 'sml': this.framer = new SmlFramer(frames); break;
      case 'd0': this.framer = new D0Framer(frames); break;
      case 'dsmr': this.framer = new DsmrFramer(frames); break;
      case 'dlms': this.framer = new DlmsFramer(frames, options.transport ?? 'auto'); break;
      case 'mbus': this.framer = new MbusFramer(frames); break;
      default: throw new RangeError('unknown protocol ' + String(options.protocol));
    }
  }

  /**
   * Bytes as the UART delivered them, in any chunking. `lineError`: the UART
   * saw a parity or framing error in them, and the telegrams they belong to
   * are rejected rather than trusted (IEC 62056-21 mode D has no checksum).
   */
  push(chunk: Uint8Array, lineError = false): void {
    this.framer.push(chunk, lineError);
  }

  /** End of input: a telegram still open is rejected as truncated. */
  end(): void {
    this.framer.end();
  }

  /** Bytes that belonged to no telegram. */
  get skipped(): number {
    return this.framer.skipped;
  }

  /** Frees the key held by the crypto port. */
  close(): void {
    this.context.keys.encryption?.close();
    this.context.keys.encryption = null;
    this.context.keys.authentication?.fill(0);
  }
}
