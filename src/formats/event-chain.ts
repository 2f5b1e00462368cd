// The event log's hash chain, shared by the device (which extends and checks
// it) and the backend (which checks every uploaded batch against what it
// already holds). docs/eventlog.md describes it.
//
// Every event carries the chain hash of the event before it. The chain hash
// of an event is SHA-256 over its sequence number in the reading log (u32,
// little-endian) and its record payload exactly as stored (which holds the
// previous hash): editing an event changes its hash, so the next event no
// longer links to it; removing one leaves a gap in the event numbers (or, if
// the numbers were rewritten too, a link that does not match). Without a key,
// whoever can rewrite the flash can also recompute every hash after an
// edit: the chain proves nothing about entries not yet uploaded and anchored
// at the backend.

import { encodeEventPayload, HASH_LENGTH, type EventEntry } from './entries';
import { putU32 } from './record';

export type Sha256 = (data: Uint8Array) => Uint8Array;

/** The previous hash of the first event a device ever records. */
export const GENESIS: Uint8Array = new Uint8Array(HASH_LENGTH);

export type SeqEvent = EventEntry & { seq: number };

/** The chain hash of an event (32 bytes). `scratch` (at least 256 bytes) spares an allocation. */
export function eventHash(e: SeqEvent, sha256: Sha256, scratch: Uint8Array = new Uint8Array(256)): Uint8Array {
  putU32(scratch, 0, e.seq);
  const end = encodeEventPayload(e, scratch, 4);
  return sha256(scratch.subarray(0, end));
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** Where the chain stands after the last event checked: continuity across batches starts from here. */
export interface ChainAnchor {
  seq: number;
  number: number;
  hash: Uint8Array;
}

export interface ChainBreak {
  /**
   * The entry at which the chain breaks: for 'removed', the first event after
   * the missing ones; for 'edited', the event whose content no longer gives the
   * hash the next one carries (or that next one's link was altered).
   */
  seq: number;
  reason: 'edited' | 'removed';
  detail: string;
}

export interface ChainStatus {
  ok: boolean;
  /** Events checked. */
  events: number;
  /** The first and last event checked (sequence number and event number); null when none. */
  first: { seq: number; number: number } | null;
  last: { seq: number; number: number } | null;
  /** The first break found; null when the chain holds. */
  break: ChainBreak | null;
}

/**
 * Checks events one by one, oldest first. Without an anchor the first event
 * is taken as it is (what came before it was erased, or is at the backend);
 * with one, the first must link to it. After a break the check goes on from
 * the event after the break, so that one bad entry does not hide the rest.
 */
export class ChainVerifier {
  private anchor: ChainAnchor | null;
  private readonly sha256: Sha256;
  private readonly scratch = new Uint8Array(256);
  private count = 0;
  private firstSeen: { seq: number; number: number } | null = null;
  private firstBreak: ChainBreak | null = null;

  constructor(sha256: Sha256, anchor: ChainAnchor | null = null) {
    this.sha256 = sha256;
    this.anchor = anchor;
  }

  /** Checks the next event; returns the break it reveals, or null. */
  add(e: SeqEvent): ChainBreak | null {
    const found = this.check(e);
    if (found && !this.firstBreak) this.firstBreak = found;
    this.count++;
    if (!this.firstSeen) this.firstSeen = { seq: e.seq, number: e.number };
    this.anchor = { seq: e.seq, number: e.number, hash: this.hashOf(e) };
    return found;
  }

  /** The chain hash of an event, as this verifier computes it. */
  hashOf(e: SeqEvent): Uint8Array {
    return eventHash(e, this.sha256, this.scratch);
  }

  private check(e: SeqEvent): ChainBreak | null {
    const a = this.anchor;
    if (!a) {
      if (e.number === 1 && !sameHash(e.prev, GENESIS)) {
        return { seq: e.seq, reason: 'edited', detail: `event 1 (entry ${e.seq}) does not start the chain (its previous hash is not zero)` };
      }
      return null;
    }
    if (e.seq <= a.seq) return { seq: e.seq, reason: 'edited', detail: `entry ${e.seq} comes after entry ${a.seq}: the log was reordered` };
    if (e.number > a.number + 1) {
      const missing = e.number - a.number - 1;
      return {
        seq: e.seq,
        reason: 'removed',
        detail: `${missing} event(s) (numbers ${a.number + 1}..${e.number - 1}) are missing between entries ${a.seq} and ${e.seq}`,
      };
    }
    if (e.number !== a.number + 1) {
      return { seq: e.seq, reason: 'edited', detail: `event number ${e.number} at entry ${e.seq} does not follow ${a.number} at entry ${a.seq}` };
    }
    if (!sameHash(e.prev, a.hash)) {
      return {
        seq: a.seq,
        reason: 'edited',
        detail: `entry ${a.seq} (event ${a.number}) is not what entry ${e.seq} (event ${e.number}) was chained to: one of them was altered`,
      };
    }
    return null;
  }

  /** The anchor after the last event: hand it to the next check. */
  get last(): ChainAnchor | null {
    return this.anchor;
  }

  status(): ChainStatus {
    const a = this.anchor;
    return {
      ok: this.firstBreak === null,
      events: this.count,
      first: this.firstSeen,
      last: this.count && a ? { seq: a.seq, number: a.number } : null,
      break: this.firstBreak,
    };
  }
}
