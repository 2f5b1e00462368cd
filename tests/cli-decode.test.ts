// `smgw decode` as a user runs it: the bundled command, a real process.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesOf, vectors } from './support/vectors';

const dir = mkdtempSync(join(tmpdir(), 'smgw-cli-'));
const smgw = (args: string[], input?: string | Uint8Array) =>
  spawnSync(process.execPath, ['bin/smgw.mjs', ...args], { input, encoding: 'utf8', timeout: 60_000 });

const vector = (id: string) => vectors().find((v) => v.id === id)!;

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('smgw decode', () => {
  it('prints one JSON line per telegram, from raw bytes on stdin', () => {
    const a = bytesOf(vector('sml-libsmltesting-iskra-mt175-ehz'));
    const b = bytesOf(vector('sml-libsmltesting-emh-ed300l-consumption'));
    const r = smgw(['decode', '--protocol', 'sml', '-'], Buffer.concat([a, b]));
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(Object.keys(lines[0])).toEqual(['protocol', 'meterId', 'time', 'values', 'security']);
    expect(lines[0].security).toEqual({ encrypted: false, authenticated: false });
    expect(r.stderr).toBe('');
  });

  it('reads hex text from a file', () => {
    const v = vector('at-evn-kaifa-ma309-capture');
    const r = smgw(['decode', '--protocol', 'dlms', '--format', 'hex', '--key', v.key!, file('evn.hex', v.hex.replace(/(..)/g, '$1 '))]);
    expect(r.status).toBe(0);
    const line = JSON.parse(r.stdout);
    expect(line.values['1-0:1.8.0']).toEqual({ value: 1340436, unit: 'Wh' });
    expect(line.time).toBe('2022-02-04T15:43:20Z');
  });

  it('rejects bad input with one line a user can act on, no values and no stack trace, and never echoes the key', () => {
    const v = vector('at-evn-kaifa-ma309-capture~wrongkey');
    const r = smgw(['decode', '--protocol', 'dlms', '--format', 'hex', '--key', v.key!, file('wrong.hex', v.hex)]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual(['decryption produced no valid DLMS data: wrong key?']);
    expect(r.stderr.toLowerCase()).not.toContain(v.key!.toLowerCase());
  });

  it('reads EN 13757-3 M-Bus with --protocol mbus, and with --protocol dlms by its CI field', () => {
    const amis = JSON.parse(readFileSync(new URL('./vectors/mbus-oms.json', import.meta.url), 'utf8'))[0] as { hex: string; key: string };
    for (const protocol of ['mbus', 'dlms']) {
      const r = smgw(['decode', '--protocol', protocol, '--format', 'hex', '--key', amis.key, file('amis.hex', amis.hex)]);
      expect(r.stderr).toBe('');
      const line = JSON.parse(r.stdout);
      expect(line.protocol).toBe('mbus');
      expect(line.values['1-0:1.8.0']).toEqual({ value: 9295305, unit: 'Wh' });
      expect(line.time).toBe('2018-04-16T10:34:02Z');
    }
  });

  it('says so when no telegram is found', () => {
    const r = smgw(['decode', '--protocol', 'dsmr', '-'], 'hello world\n');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('no dsmr telegram found in the input: check --protocol and --format');
  });

  it('refuses malformed arguments with status 2', () => {
    for (const [args, message] of [
      [['decode', '--protocol', 'modbus'], /--protocol must be one of/], // (mbus is one now: EN 13757-3)
      [['decode', '--protocol', 'dlms', '--key', 'abc'], /--key must be 32 hex digits/],
      [['decode', '--protocol', 'sml', '--format', 'base64'], /--format must be one of raw, hex \(got "base64"\)/],
      [['decode', '--protocol', 'sml', '--tz', 'Mars/Olympus'], /unknown time zone/],
      [['decode', '--protocol', 'sml', '--bogus'], /unknown option --bogus; smgw decode --help lists its options/],
      [['frobnicate'], /unknown command/],
    ] as [string[], RegExp][]) {
      const r = smgw(args, '');
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses input that is not hex', () => {
    const r = smgw(['decode', '--protocol', 'sml', '--format', 'hex', '-'], '1b1b1b1bzz');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('smgw: input is not hex: use --format raw for binary input');
  });

  it('gives the same output inside the XS engine, with computrons on request', () => {
    const v = vector('han-no-kamstrup-gh741');
    const path = file('kamstrup.hex', v.hex);
    const node = smgw(['decode', '--protocol', 'dlms', '--format', 'hex', path]);
    const xs = smgw(['decode', '--protocol', 'dlms', '--format', 'hex', '--engine', 'xs', '--stats', path]);
    expect(xs.status).toBe(0);
    expect(xs.stdout).toBe(node.stdout);
    expect(xs.stderr).toMatch(/^telegram 1: \d+ bytes, \d+ computrons \([\d.]+\/byte\), XS heap \d+ slots$/m);
  });
});
