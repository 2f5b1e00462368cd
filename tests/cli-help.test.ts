// Every smgw command answers --help from its option table, and a mistyped
// option or command is answered with the closest valid one. The tables are
// checked in-process (cheap); the built command is spawned once per help
// text, all at once, to prove what a user sees is the same text and exits 0.
// docs/cli.md holds those texts: SMGW_CLI_DOCS=write with this test rewrites it.

import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { closest, helpText, parse, type Command } from '../cli/options';
import { UsageError } from '../cli/usage';
import { DECODE } from '../cli/decode';
import { SIM } from '../cli/sim';
import { METER } from '../cli/meter';
import { LOG } from '../cli/log';
import { BACKEND } from '../cli/backend';
import { CONCENTRATOR } from '../cli/concentrator';
import { RELEASE_COMMANDS } from '../cli/release';

const COMMANDS: Command[] = [DECODE, SIM, METER, LOG, BACKEND, CONCENTRATOR, ...Object.values(RELEASE_COMMANDS)];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The built command, asynchronously, so the spawns below overlap. */
function smgw(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['bin/smgw.mjs', ...args], { encoding: 'utf8', timeout: 60_000 }, (_e, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }));
  });
}

/** What the usage error is, or fails the test. */
function usageError(c: Command, argv: string[]): string {
  try {
    parse(c, argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`${c.name} ${argv.join(' ')} was accepted`);
}

describe('smgw --help', () => {
  it('names every option of every command, its short form and value, and gives an example of the command', () => {
    for (const c of COMMANDS) {
      const help = helpText(c);
      expect(help, c.name).toMatch(new RegExp(`^usage: ${c.name} `, 'm'));
      for (const [name, o] of Object.entries(c.options)) {
        const line = help.split('\n').find((l) => new RegExp(`^ {2}(-\\w, )?--${name}( |$)`).test(l));
        expect(line, `${c.name} --${name}`).toBeDefined();
        if (o.short) expect(line, `${c.name} -${o.short}`).toContain(`-${o.short}, --${name}`);
        if (o.value) expect(line, `${c.name} --${name} ${o.value}`).toContain(`--${name} ${o.value}`);
        for (const choice of o.choices ?? []) expect(line, `${c.name} --${name} ${choice}`).toMatch(new RegExp(`[ |]${choice}(\\||\\s|$)`));
        // Defaults are said where they are, in the description that may wrap onto the next lines.
        if (o.default !== undefined) expect(help.replace(/\n +/g, ' '), `${c.name} --${name} default`).toContain(`default ${o.default}`);
      }
      expect(help, c.name).toMatch(/^ {2}-h, --help /m);
      expect(c.examples.length, c.name).toBeGreaterThan(0);
      for (const example of c.examples) expect(example, c.name).toContain(c.name + ' ');
      expect(help.split('examples:\n')[1].split('\n').filter((l) => l.trim()).length, c.name).toBe(c.examples.length);
    }
  });

  it('a misspelt option (a letter short, two letters swapped) names the one meant, for every option of every command', () => {
    for (const c of COMMANDS) {
      for (const name of Object.keys(c.options).filter((n) => n.length >= 3)) {
        const short = name.slice(0, -1);
        const swapped = name[0] + name[2] + name[1] + name.slice(3);
        for (const typo of new Set([short, swapped].filter((t) => t !== name))) {
          expect(usageError(c, [`--${typo}`]), `${c.name} --${typo}`).toBe(`unknown option --${typo}; did you mean --${name}?`);
        }
      }
    }
  });

  it('an option nothing is close to is refused with where to look; values, enumerations and required options are checked by name', () => {
    expect(usageError(DECODE, ['--protocol', 'sml', '--bogus'])).toBe('unknown option --bogus; smgw decode --help lists its options');
    expect(usageError(DECODE, ['--protocol', 'sml', '-x'])).toBe('unknown option -x; smgw decode --help lists its options');
    expect(usageError(DECODE, ['--protocol', 'smll'])).toBe('--protocol must be one of sml, d0, dsmr, dlms, mbus (got "smll"; did you mean sml?)');
    expect(usageError(DECODE, ['--protocol', 'modbus'])).toBe('--protocol must be one of sml, d0, dsmr, dlms, mbus (got "modbus"; did you mean mbus?)');
    expect(usageError(DECODE, ['--format', 'hex'])).toBe('--protocol sml|d0|dsmr|dlms|mbus is required');
    expect(usageError(DECODE, ['--protocol', 'sml', '--key'])).toBe('--key needs a value: --key HEX');
    expect(usageError(DECODE, ['--protocol', 'sml', '--stats=yes'])).toBe('--stats takes no value (got "--stats=yes")');
    expect(usageError(SIM, ['--meter', 'metre'])).toMatch(/^--meter must be one of sml, d0, dsmr, dlms-mbus, dlms-hdlc, mbus-amis \(got "metre"\)$/);
    expect(usageError(SIM, ['dlms-mbus'])).toBe('smgw sim takes no arguments (got "dlms-mbus"); smgw sim --help lists its options');
    expect(usageError(LOG, [])).toBe('--state DIR is required: the directory `smgw sim --state` kept');
    expect(usageError(RELEASE_COMMANDS.sign, ['--key', 'k.pem', '-o', 'out', 'app.bin'])).toBe('--hardware NAME is required: esp32, lin or sim (a device refuses an image for other hardware)');
    // --help is answered even beside a mistake: the user is asking what is right.
    expect(parse(DECODE, ['--bogus', '--help'])).toBeUndefined();
  });

  it('parses what the tables say: defaults, repeatable options, short forms, typed choices', () => {
    expect(parse(DECODE, ['--protocol', 'dlms', 'capture.hex'])).toEqual({
      values: { protocol: 'dlms', format: 'raw', engine: 'node', stats: false, tz: 'Europe/Berlin', transport: 'auto' },
      positionals: ['capture.hex'],
    });
    expect(parse(SIM, ['--fault', 'noise:1e-5', '--fault', 'power-cut:every=5h'])!.values.fault).toEqual(['noise:1e-5', 'power-cut:every=5h']);
    expect(parse(SIM, [])!.values).toMatchObject({ meter: 'dlms-mbus', site: 'grid', seed: '1', speed: 'max', backend: 'none', engine: 'node', fault: [], quiet: false });
    expect(parse(RELEASE_COMMANDS.keygen, ['-o', 'keys'])!.values).toEqual({ out: 'keys' });
    expect(parse(BACKEND, [])!.values).toMatchObject({ db: 'sqlite:smgw-backend/readings.db', port: '8443', host: '127.0.0.1', workers: '1', hostname: [], 'behind-proxy': false, log: false });
  });

  it('closest: an abbreviation, or a few edits at most, else nothing', () => {
    expect(closest('prot', ['port', 'protocol'])).toBe('protocol');
    expect(closest('mete', ['meter-log', 'meter'])).toBe('meter');
    expect(closest('sing', ['keygen', 'sign', 'inspect'])).toBe('sign');
    expect(closest('bakend', ['backend', 'decode'])).toBe('backend');
    expect(closest('bogus', ['tz', 'stats', 'key', 'format'])).toBeUndefined();
    expect(closest('frobnicate', ['decode', 'sim', 'meter', 'log', 'backend', 'concentrator', 'release'])).toBeUndefined();
  });

  it('the built command prints each help on stdout with status 0; -h and smgw help CMD are the same; a mistyped command or option names the closest', async () => {
    const asked: [string, string[]][] = [['smgw', ['--help']], ...COMMANDS.map((c): [string, string[]] => [c.name, [...c.name.split(' ').slice(1), '--help']])];
    asked.splice(asked.findIndex(([name]) => name.startsWith('smgw release ')), 0, ['smgw release', ['release', '--help']]);
    // The extra cases are spawned on the cheap commands (release, meter: no backend, no simulator to load).
    const [helps, short, viaHelp, mistyped, releaseMistyped, option, bare] = await Promise.all([
      Promise.all(asked.map(([, args]) => smgw(args))),
      smgw(['release', 'inspect', '-h']),
      smgw(['help', 'release', 'sign']),
      smgw(['bakend']),
      smgw(['release', 'sing']),
      smgw(['meter', '--metre', 'sml']),
      smgw([]),
    ]);
    const byName = new Map(asked.map(([name], i) => [name, helps[i]]));
    for (const [name, r] of byName) {
      expect(r.status, name).toBe(0);
      expect(r.stderr, name).toBe('');
      expect(r.stdout, name).toMatch(new RegExp(`^${name}: `));
      expect(r.stdout, name).toMatch(/\nexamples:\n {2}(\S.* )?smgw /);
    }
    for (const c of COMMANDS) expect(byName.get(c.name)!.stdout).toBe(helpText(c) + '\n');
    for (const command of ['decode', 'sim', 'meter', 'log', 'backend', 'concentrator', 'release']) expect(byName.get('smgw')!.stdout).toMatch(new RegExp(`^ {2}${command} +\\S`, 'm'));
    for (const sub of Object.keys(RELEASE_COMMANDS)) expect(byName.get('smgw release')!.stdout).toMatch(new RegExp(`^ {2}${sub} +\\S`, 'm'));
    expect(short).toEqual(byName.get('smgw release inspect'));
    expect(viaHelp).toEqual(byName.get('smgw release sign'));
    // Without a command: the list, but as a mistake (status 2).
    expect(bare).toEqual({ ...byName.get('smgw'), status: 2 });

    expect(mistyped).toEqual({ status: 2, stdout: '', stderr: 'smgw: unknown command "bakend"; did you mean backend?\n' });
    expect(releaseMistyped).toEqual({ status: 2, stdout: '', stderr: 'smgw: smgw release keygen|sign|inspect|sim-image (got "sing"); did you mean sign?\n' });
    expect(option).toEqual({ status: 2, stdout: '', stderr: 'smgw: unknown option --metre; did you mean --meter?\n' });

    // docs/cli.md shows exactly these texts.
    const docs = new URL('../docs/cli.md', import.meta.url);
    let text = readFileSync(docs, 'utf8');
    const marker = '<!-- the help texts below are written by tests/cli-help.test.ts (SMGW_CLI_DOCS=write) -->\n';
    const generated = [...byName].map(([name, r]) => `\n### ${name}\n\n\`\`\`text\n${r.stdout}\`\`\`\n`).join('');
    const wanted = text.slice(0, text.indexOf(marker) + marker.length) + generated;
    if (process.env.SMGW_CLI_DOCS === 'write') {
      writeFileSync(docs, wanted);
      text = wanted;
    }
    expect(text.includes(marker), 'docs/cli.md has the marker').toBe(true);
    expect(text, 'docs/cli.md is behind the help texts: SMGW_CLI_DOCS=write npx vitest run tests/cli-help.test.ts').toBe(wanted);
  }, 60_000);
});
