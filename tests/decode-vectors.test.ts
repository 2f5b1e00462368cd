// Every real telegram in the shared vectors decodes to the values its source
// states; every derived negative case (flipped byte, truncation, wrong key)
// is rejected with a reason and yields no reading.

import { describe, expect, it } from 'vitest';
import { bytesOf, keyOf, vectors } from './support/vectors';
import { decodeAll } from './support/decode';

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

describe('shared real-meter vectors', () => {
  const all = vectors();

  it('holds every category the decoders cover', () => {
    const categories = new Set(all.map((v) => v.category));
    for (const c of ['sml', 'iec62056_21_mode_d', 'dsmr_p1', 'dsmr_p1_encrypted', 'at_dlms_encrypted', 'nordic_han_hdlc']) expect(categories).toContain(c);
  });

  for (const v of all.filter((x) => !x.expectError)) {
    it(`decodes ${v.id}`, () => {
      const out = decodeAll({ protocol: v.protocol, key: keyOf(v.key), authKey: keyOf(v.authKey) }, bytesOf(v));
      expect(out.errors.map((e) => e.message)).toEqual([]);
      expect(out.readings).toHaveLength(1);
      const r = out.readings[0];
      expect(r.protocol).toBe(v.protocol);
      for (const [obis, want] of Object.entries(v.expect.values)) {
        const got = r.values[obis] as { value: number; unit: string } | undefined;
        const accepted = [want, ...(v.expect.alternatives?.[obis] ?? [])];
        expect(got, obis).toBeDefined();
        expect(accepted.some((w) => got!.unit === w.unit && close(got!.value, w.value)), `${obis}: ${got!.value} ${got!.unit}`).toBe(true);
      }
      expect(r.security.encrypted).toBe(v.key !== null);
      if (v.authKey) expect(typeof r.security.authenticated).toBe('boolean');
    });
  }

  for (const v of all.filter((x) => x.expectError)) {
    it(`rejects ${v.id}`, () => {
      const out = decodeAll({ protocol: v.protocol, key: keyOf(v.key), authKey: keyOf(v.authKey) }, bytesOf(v));
      expect(out.readings).toEqual([]);
      expect(out.errors.length).toBeGreaterThan(0);
      for (const e of out.errors) {
        expect(e.reason).not.toBe('internal');
        expect(e.message.length).toBeGreaterThan(10);
      }
    });
  }

  it('names the reason a user can act on', () => {
    const reasons = (id: string) => {
      const v = all.find((x) => x.id === id)!;
      return decodeAll({ protocol: v.protocol, key: keyOf(v.key), authKey: keyOf(v.authKey) }, bytesOf(v)).errors.map((e) => e.reason);
    };
    expect(reasons('at-evn-kaifa-ma309-capture~wrongkey')).toEqual(['wrong-key']);
    expect(reasons('p1enc-smarty-lux-nexxtlab~wrongkey')).toEqual(['auth']);
    expect(reasons('sml-vzlogger-emh-ehz~flip')).toEqual(['crc']);
    expect(reasons('dsmr-kaifa-kfm5-openhab~flip')).toEqual(['crc']);
    expect(reasons('han-no-aidon-v0001-gh1119~flip')).toEqual(['crc']);
    expect(reasons('sml-vzlogger-emh-ehz~truncated')).toEqual(['truncated']);
    expect(reasons('at-wienernetze-lg-e450~truncated')).toEqual(['truncated']);
  });

  it('authenticates when the authentication key is given and the frame carries a tag', () => {
    const v = all.find((x) => x.id === 'p1enc-smarty-lux-nexxtlab')!;
    const withAk = decodeAll({ protocol: 'dsmr', key: keyOf(v.key), authKey: keyOf(v.authKey) }, bytesOf(v)).readings[0];
    const withoutAk = decodeAll({ protocol: 'dsmr', key: keyOf(v.key) }, bytesOf(v)).readings[0];
    expect(withAk.security).toEqual({ encrypted: true, authenticated: true });
    expect(withoutAk.security).toEqual({ encrypted: true, authenticated: false });
    expect(withoutAk.values).toEqual(withAk.values);
  });
});
