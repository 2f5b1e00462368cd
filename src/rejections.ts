// Decode errors and rejected frames for the event log, aggregated: one event
// per period with the counts by class since the last one, not one event per
// bad telegram, so that a broken line cannot fill the flash. Security-relevant
// rejections (tag failures, replayed frame counters) are an event of their own
// kind; the first replay of a period is also recorded at once, with its
// detail, by the gateway.

import type { RejectReason } from './meter/errors';

/** Rejections that say someone may be tampering, rather than that the line is bad. */
const SECURITY: readonly RejectReason[] = ['auth', 'replay'];

export interface RejectionSummary {
  decode: string | null;
  security: string | null;
}

export class RejectionDigest {
  private seen: { [reason: string]: number } = {};
  private lineErrors = 0;

  /**
   * What was rejected since the last call, from the reader's cumulative
   * counters (which start at zero with every boot).
   */
  take(rejected: { [reason in RejectReason]?: number }, lineErrors: number, period: string): RejectionSummary {
    const decode: string[] = [];
    const security: string[] = [];
    for (const reason in rejected) {
      const now = rejected[reason as RejectReason] ?? 0;
      const n = now - (this.seen[reason] ?? 0);
      this.seen[reason] = now;
      if (n > 0) (SECURITY.indexOf(reason as RejectReason) >= 0 ? security : decode).push(`${reason} ${n}`);
    }
    const uart = lineErrors - this.lineErrors;
    this.lineErrors = lineErrors;
    if (uart > 0) decode.push(`uart ${uart}`);
    return {
      decode: decode.length ? `decode errors in the last ${period}: ${decode.join(', ')}` : null,
      security: security.length ? `frames rejected in the last ${period}: ${security.join(', ')}` : null,
    };
  }
}
