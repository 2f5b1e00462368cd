// The firmware's decoders inside the real XS engine (xsnap, built from
// Moddable's sources by npm ci) print exactly what they print on Node.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XsDecoder } from '../hosts/xsnap/decode-engine';
import { distFile } from '../hosts/node/paths';
import { bytesOf, keyOf, vectors } from './support/vectors';
import { decodeAll } from './support/decode';
import { readingJson } from '../src/meter/format';

describe('decoding inside XS', () => {
  let xs: XsDecoder;
  beforeAll(async () => {
    xs = await XsDecoder.start(distFile('xs/decode.js'), { protocol: 'sml' });
  });
  afterAll(async () => {
    await xs?.close();
  });

  it('gives byte-identical lines and the same rejections for every vector', async () => {
    let compared = 0;
    for (const v of vectors()) {
      await xs.restart({ protocol: v.protocol, key: v.key ?? undefined, authKey: v.authKey ?? undefined });
      const events = [...(await xs.push(bytesOf(v))), ...(await xs.end())];
      const node = decodeAll({ protocol: v.protocol, key: keyOf(v.key), authKey: keyOf(v.authKey) }, bytesOf(v));
      expect(events.filter((e) => e.line !== undefined).map((e) => e.line), v.id).toEqual(node.readings.map(readingJson));
      expect(events.filter((e) => e.error !== undefined).map((e) => `${e.reason}: ${e.error}`), v.id).toEqual(node.errors.map((e) => `${e.reason}: ${e.message}`));
      compared++;
    }
    expect(compared).toBe(vectors().length);
  });

  it('meters the work: computrons per telegram, with a live heap that does not grow', async () => {
    const v = vectors().find((x) => x.id === 'han-se-aidon-gh156')!;
    await xs.restart({ protocol: 'dlms' });
    const live: number[] = [];
    for (let k = 1; k <= 300; k++) {
      const events = await xs.push(bytesOf(v));
      expect(events).toHaveLength(1);
      expect(events[0].computrons).toBeGreaterThan(0);
      if (k % 100 === 0) live.push(await xs.liveHeap());
    }
    // Telegrams leave nothing behind: the live heap after 200 and 300 is what it was after 100.
    expect(live[1]).toBeLessThanOrEqual(live[0]);
    expect(live[2]).toBeLessThanOrEqual(live[0]);
  });
});
