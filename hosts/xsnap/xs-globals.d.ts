// Globals the xsnap worker gives scripts (see @agoric/xsnap's xsnap-worker.c).
declare function issueCommand(message: ArrayBuffer): ArrayBuffer;
declare function resetMeter(limit: number, index: number): number;
declare function currentMeterLimit(): number;
declare function print(...args: unknown[]): void;
declare function gc(): void;
// eslint-disable-next-line no-var
declare var handleCommand: (message: ArrayBuffer) => ArrayBuffer | undefined;
