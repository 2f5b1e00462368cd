// Signed firmware updates in the simulator (docs/ota.md), the whole cycle as
// `smgw sim` runs it: the backend's admin publishes and rolls out a release,
// the device learns of it in its upload acknowledgement, downloads it in
// Range pieces over mutual TLS, checks it, writes the inactive slot, restarts
// into it, self-tests and marks it valid, or is refused / rolls back. The
// slots, otadata and the bootloader are hosts/sim/ota.ts's model on NOR flash.

import { describe, expect, it } from 'vitest';
import { APP_SIZE, runUpdate, signedImage, updateEvents } from './support/ota';

describe('a genuine update', () => {
  it('is downloaded, verified, written to ota_1, booted, self-tested, marked valid and reported to the backend', async () => {
    const run = await runUpdate({ file: signedImage({ version: '0.3.0' }) });
    expect(run.published?.status).toBe(201);
    console.log(updateEvents(run));
    console.log(run.report.boots);
    expect(run.running).toBe('0.3.0');
  }, 120_000);
});
