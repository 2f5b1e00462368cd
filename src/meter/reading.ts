// The reading model every decoder produces: one per telegram.

/** A meter's protocol setting. */
export type Protocol = 'sml' | 'd0' | 'dsmr' | 'dlms';

const PROTOCOLS: readonly Protocol[] = ['sml', 'd0', 'dsmr', 'dlms'];

/**
 * What a telegram is decoded as: a setting's protocol, or wired M-Bus with the
 * EN 13757-3 application layer, which the dlms setting also reads (told apart
 * by the CI field) and `smgw decode --protocol mbus` reads alone.
 */
export type TelegramProtocol = Protocol | 'mbus';

export const TELEGRAM_PROTOCOLS: readonly TelegramProtocol[] = [...PROTOCOLS, 'mbus'];

/** A number in its canonical unit; `time` when the meter stamped this value itself (gas, maximum demand). */
export interface Quantity {
  value: number;
  unit: string;
  time?: number;
}

interface Text {
  text: string;
}

/** Octets that are not printable text (a server id, a status word), as hex. */
interface Octets {
  hex: string;
}

export type RegisterValue = Quantity | Text | Octets;

export interface Security {
  encrypted: boolean;
  authenticated: boolean;
}

export interface Reading {
  protocol: TelegramProtocol;
  meterId: string | null;
  /** The meter's own clock, ms since the epoch (UTC), or null when the telegram carries none. */
  time: number | null;
  /** Keyed by OBIS ("1-0:1.8.0"), in the order the telegram carried them. */
  values: { [obis: string]: RegisterValue };
  security: Security;
  /** DLMS sender and frame counter, for replay protection. */
  systemTitle?: string;
  frameCounter?: number;
}

export const PLAIN: Security = { encrypted: false, authenticated: false };
