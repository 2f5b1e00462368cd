// DLMS data-notification APDU (Green Book 9.3.8): 0F <long-invoke-id-and-
// priority: 4 bytes> <date-time: octet string, may be empty> <notification
// body: one data element>. Meters push their registers this way.

import { reject } from '../errors';
import { readData, type Items } from './axdr';
import { cosemDateTime } from './cosem-time';

export const DATA_NOTIFICATION = 0x0f;

export interface Notification extends Items {
  /** The APDU's own date-time, when the meter sends one. */
  time: number | null;
}

export function readNotification(apdu: Uint8Array, zone: string): Notification {
  if (apdu.length === 0) reject('structure', 'empty DLMS APDU');
  if (apdu[0] !== DATA_NOTIFICATION) reject('structure', `not a DLMS data-notification (APDU tag 0x${apdu[0].toString(16)})`);
  if (apdu.length < 7) reject('structure', 'DLMS data-notification too short');
  let p = 5;
  let time: number | null = null;
  // The date-time is an octet string: empty (00) or 12 bytes (0C ...). Some
  // Kaifa meters send it as typed data (09 0C ...).
  if (apdu[p] === 0x09 && apdu[p + 1] === 0x0c) p++;
  const n = apdu[p++];
  if (n === 12) {
    if (p + 12 > apdu.length) reject('structure', 'DLMS data-notification date-time cut short');
    time = cosemDateTime(apdu, p, zone);
    p += 12;
  } else if (n !== 0) reject('structure', 'DLMS data-notification with a malformed date-time');
  const notification: Notification = { time, bytes: apdu, tag: [], value: [], size: [] };
  if (readData(apdu, p, apdu.length, notification) !== apdu.length) reject('structure', 'DLMS data-notification followed by unexpected bytes');
  return notification;
}
