// A DLMS APDU (after the M-Bus or HDLC transport) -> Reading.

import { DecodeError, reject } from '../errors';
import { PLAIN, type Reading, type Security } from '../reading';
import { decipher, GLO_CIPHERING } from './glo';
import type { Keys } from '../keys';
import { DATA_NOTIFICATION, readNotification, type Notification } from './notification';
import { registersOf } from './push-lists';

export interface DlmsOptions {
  keys: Keys;
  zone: string;
}

const WRONG_KEY = 'decryption produced no valid DLMS data: wrong key?';

export function decodeDlms(apdu: Uint8Array, options: DlmsOptions): Reading {
  if (apdu.length === 0) reject('structure', 'empty DLMS APDU');
  let plaintext = apdu;
  let security: Security = PLAIN;
  let systemTitle: string | undefined;
  let frameCounter: number | undefined;
  if (apdu[0] === GLO_CIPHERING) {
    const d = decipher(apdu, options.keys);
    plaintext = d.plaintext;
    security = d.security;
    systemTitle = d.systemTitle;
    frameCounter = d.frameCounter;
  } else if (apdu[0] !== DATA_NOTIFICATION) {
    reject('unsupported', `DLMS APDU 0x${apdu[0].toString(16)} is not a data-notification: this decoder reads pushed data only`);
  }
  // Decrypting with a wrong key yields noise; without an authentication tag
  // the only sign is that the noise is not a valid notification.
  const guessed = security.encrypted && !security.authenticated;
  let notification: Notification;
  try {
    notification = readNotification(plaintext, options.zone);
  } catch (e) {
    if (guessed && e instanceof DecodeError && e.reason === 'structure') reject('wrong-key', WRONG_KEY);
    throw e;
  }
  const registers = registersOf(notification, options.zone);
  if (!registers) {
    reject('structure', `unknown DLMS push list (${notification.tag.length} elements, no OBIS codes): please report this meter`);
  }
  const reading: Reading = {
    protocol: 'dlms',
    meterId: registers.meterId ?? systemTitle ?? null,
    time: notification.time ?? registers.time,
    values: registers.values,
    security,
  };
  if (systemTitle !== undefined) {
    reading.systemTitle = systemTitle;
    reading.frameCounter = frameCounter;
  }
  return reading;
}
