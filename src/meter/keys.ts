// A meter's keys as the decoders take them: DLMS/COSEM's general global
// ciphering (dlms/glo.ts, also for encrypted DSMR P1 telegrams, iec/dsmr.ts)
// and wired M-Bus OMS mode 5 (mbus/decode.ts). Declared here, below
// both, so that neither protocol's folder imports the other for it.

import type { AesKey } from '../ports/crypto';

export interface Keys {
  encryption: AesKey | null;
  /** The 16-byte authentication key itself: it is AAD, not a cipher key. */
  authentication: Uint8Array | null;
}
