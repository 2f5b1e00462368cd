// What the portal's routes (api.ts, update.ts) use of the portal itself:
// declared apart from portal.ts, which registers them, so that the routes and
// the portal do not import each other.

import type { PortalGateway } from './gateway';
import type { Auth } from './auth';
import type { AccessPoint } from './access';
import type { Detector } from './detect';
import type { MeterSettings } from '../meter/settings';
import type { WifiNetwork } from '../ports/network';

export interface PortalState {
  readonly gateway: PortalGateway;
  readonly auth: Auth;
  readonly ap: AccessPoint;
  readonly detector: Detector;
  /** The Wi-Fi scan the setup page asked for. */
  scan: { state: 'idle' | 'scanning' | 'done'; networks: WifiNetwork[] };
  /** The last telegram, raw, when it came (uptime), and why it was refused. */
  readonly lastTelegram: { bytes: Uint8Array; at: number; refused: string | null } | null;
  /** Settings changed since boot: they apply after a restart. */
  readonly restartNeeded: boolean;
  /** Uptime when the reader last started (the diagnosis waits a little before "no data"). */
  readerSince: number;
  /** Set up: the owner chose a password and finished the wizard. */
  readonly configured: boolean;
  /** Whether telegrams have been seen with these meter settings. */
  seen(meter: MeterSettings): boolean;
  /** Config changed: noted in the event log and applied at the next restart. */
  changed(message: string): void;
}
