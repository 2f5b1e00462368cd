// `smgw sim` as a user runs it.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { freePort } from './support/free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_KEY } from '../simulator/meters/index';


const smgw = (args: string[]) => spawnSync(process.execPath, ['bin/smgw.mjs', ...args], { encoding: 'utf8', timeout: 120_000 });

describe('smgw sim', () => {
  it('writes the meter log and the report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smgw-cli-sim-'));
    const r = smgw(['sim', '--meter', 'dlms-hdlc', '--from', '2025-03-30T00:00:00Z', '--days', '0.25', '--seed', '3', '--state', join(dir, 'state'), '--meter-log', join(dir, 'meter.jsonl'), '--report', join(dir, 'report.json'), '--fault', 'meter-silent:DAY0/2025-03-30T01:00:00Z']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2025-03-30T00:00:00Z \.\. 2025-03-30T06:00:00Z: \d+ telegrams sent, \d+ decoded, rejected: none; 1 boot\(s\)/);
    const log = readFileSync(join(dir, 'meter.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log).toHaveLength(5 * 360);
    expect(log[0].time).toBe('2025-03-30T01:00:00Z');
    expect(log[0].values['1-0:1.8.0'].unit).toBe('Wh');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.telegrams.decoded).toBe(log.length);
    expect(report.silences).toHaveLength(1);
    expect(report.faults).toEqual([{ kind: 'meter-silent', from: Date.UTC(2025, 2, 30), to: Date.UTC(2025, 2, 30, 1) }]);
    expect(report.flash.erasesPerSector).toHaveLength(16);
    // The quarter-hours of the silent hour are one gap entry; the readings follow.
    expect(report.log.gaps.byReason).toEqual({ 'no-telegram': 4 });
    // 21 readings and gaps, and three events first: the boot, the firmware, the time from SNTP.
    expect(r.stdout).toMatch(/reading log: 24 entries \(20 quarter-hour, 0 daily, 0 on demand, 1 gap entry for 4 boundaries\), .*; 3 events \(\d+ bytes\), chain ok/);
    const shown = smgw(['log', '--state', join(dir, 'state'), '--kind', 'taf7', '--from', '6', '--limit', '3']);
    expect(shown.status, shown.stderr).toBe(0);
    const entries = shown.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.map((e) => [e.seq, e.time])).toEqual([[6, '2025-03-30T01:15:00Z'], [7, '2025-03-30T01:30:00Z'], [8, '2025-03-30T01:45:00Z']]);
    expect(entries[0]).toMatchObject({ type: 'reading', kind: 'taf7', source: 'sntp' });
    expect(shown.stderr).toMatch(/^reading log: 24 entries/);
    const events = smgw(['log', '--state', join(dir, 'state'), '--kind', 'event']);
    expect(events.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((e) => [e.seq, e.number, e.kind])).toEqual([[1, 1, 'boot'], [2, 2, 'firmware'], [3, 3, 'time']]);
  });

  it('--site pv: the generation meter at the inverter, feeding in at midday; its state stays at that site', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smgw-cli-pv-'));
    const args = ['sim', '--meter', 'sml', '--site', 'pv', '--from', '2025-06-02T10:00:00Z', '--days', '0.01', '--state', join(dir, 'state')];
    const r = smgw([...args, '--meter-log', join(dir, 'meter.jsonl')]);
    expect(r.status, r.stderr).toBe(0);
    const log = readFileSync(join(dir, 'meter.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log).toHaveLength(864);
    expect(log.every((l) => l.values['1-0:16.7.0'].value < 0)).toBe(true);
    expect(log[log.length - 1].values['1-0:2.8.0'].value).toBeGreaterThan(log[0].values['1-0:2.8.0'].value);
    const grid = smgw(['sim', '--meter', 'sml', '--state', join(dir, 'state'), '--days', '0.01']);
    expect(grid.status).toBe(2);
    expect(grid.stderr).toMatch(/belongs to a meter at the pv site/);
  });

  it('npm start\'s way (a portal, an embedded backend): prints the Wi-Fi, the meter\'s key, the household dashboard and its token file, and an enrolment command for that household', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smgw-cli-start-'));
    const state = join(dir, 'state');
    const args = ['sim', '--meter', 'dlms-mbus', '--speed', '1000', '--days', '0.005', '--state', state, '--backend', 'embedded', '--portal-port', String(await freePort())];
    const first = smgw(args);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('smgw sim: the simulated home Wi-Fi: Home, password correct horse battery\n');
    expect(first.stdout).toContain(`smgw sim: the virtual dlms-mbus meter's key (the wizard's Keys step): ${DEMO_KEY}\n`);
    expect(first.stdout).toMatch(/the device is not set up: open http:\/\/127\.0\.0\.1:\d+\/#setup and log in with the initial password smgw-lite-setup/);
    const pki = join(state, 'pki');
    const backend = /smgw sim: the backend: (https:\/\/127\.0\.0\.1:\d+) \(its CA (\S+)\/ca\.pem, the admin token in (\S+)\/admin-token\)/.exec(first.stdout)!;
    expect(backend.slice(2)).toEqual([pki, pki]);
    expect(first.stdout).toContain(`smgw sim: the household dashboard: ${backend[1]}/ (log in with the household token: cat ${pki}/household-token)\n`);
    const enrol = /-d '\{"householdId":"(hh-[0-9a-f]+)"\}' (\S+)\/api\/v1\/admin\/devices > (\S+)\n/.exec(first.stdout)!;
    expect(enrol[2]).toBe(backend[1]);
    // The bundle (the device's private key) goes into the state directory, which only its owner can enter.
    expect(enrol[3]).toBe(join(state, 'bundle.json'));
    expect(statSync(state).mode & 0o777).toBe(0o700);
    // The token in the file opens the household the printed command enrols the device into: one step to its dashboard.
    const token = readFileSync(join(pki, 'household-token'), 'utf8').trim();
    expect(statSync(join(pki, 'household-token')).mode & 0o777).toBe(0o600);
    const { Store } = await import('../backend/store');
    const open = async () => {
      const store = await Store.open(`sqlite:${join(state, 'backend.db')}`);
      try {
        return await store.credential(token);
      } finally {
        await store.close();
      }
    };
    expect(await open()).toMatchObject({ kind: 'household', subject: enrol[1] });
    // The next run keeps the household and its token.
    const second = smgw(args.slice(0, -1).concat(String(await freePort())));
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain(`-d '{"householdId":"${enrol[1]}"}'`);
    expect(readFileSync(join(pki, 'household-token'), 'utf8').trim()).toBe(token);
    expect(await open()).toMatchObject({ kind: 'household', subject: enrol[1] });
  }, 120_000);

  it('refuses what it cannot do, with one line', () => {
    for (const [args, message] of [
      [['sim', '--meter', 'gas'], /--meter must be one of/],
      [['sim', '--site', 'roof'], /--site must be one of grid, pv/],
      [['sim', '--site', 'pv', '--meter', 'dlms-mbus'], /--site pv needs --meter sml/],
      [['sim', '--speed', 'fast'], /--speed must be/],
      [['sim', '--fault', 'flood:1'], /unknown fault/],
      [['sim', '--days', '1', '--until', '2025-01-01'], /--days or --until/],
      [['sim', '--key', 'xyz'], /--key must be 32 hex digits/],
      [['sim', '--period', '7'], /--period 7 is out of range/],
      [['log'], /--state DIR is required/],
      [['log', '--state', '/nonexistent'], /no flash image in \/nonexistent/],
    ] as [string[], RegExp][]) {
      const r = smgw(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
