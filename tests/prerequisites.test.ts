// npm test's first step, scripts/prerequisites.mjs: the system packages of system-packages.txt,
// checked on this machine and on a PATH that lacks the compiler, and the one list that the README's
// set-up and .ci/run both go by.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIST, ROOT, SHARED_FILES, installCommand, missingPackages, missingSharedFiles, onPath, parseSystemPackages, readSystemPackages, report, reportSharedFiles } from '../scripts/prerequisites.mjs';

const SCRIPT = join(ROOT, 'scripts', 'prerequisites.mjs');

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, env, encoding: 'utf8' });
}

/** A PATH with Node on it and nothing else: no gcc, g++, make or python3. */
function pathWithOnlyNode(): string {
  const dir = mkdtempSync(join(tmpdir(), 'smgw-prereq-path-'));
  symlinkSync(process.execPath, join(dir, 'node'));
  return dir;
}

describe('system-packages.txt', () => {
  it('lists each package once, with what shows it is installed and what needs it', () => {
    const packages = readSystemPackages();
    expect(packages.map((p) => p.name)).toEqual(['build-essential', 'python3', 'libmbedtls-dev', 'chromium', 'mosquitto']);
    expect(new Set(packages.map((p) => p.name)).size).toBe(packages.length);
    for (const p of packages) {
      expect(p.probes.length, p.name).toBeGreaterThan(0);
      expect(p.why, p.name).not.toBe('');
    }
    expect(packages.find((p) => p.name === 'libmbedtls-dev')!.probes).toEqual([{ kind: 'mbedtls', arg: '' }]);
    expect(packages.find((p) => p.name === 'chromium')!.probes).toEqual([{ kind: 'file', arg: '/usr/bin/chromium' }]);
  });

  it('refuses a line it cannot check, saying which line', () => {
    expect(() => parseSystemPackages('gcc\n', 'list')).toThrow('list:1: gcc says nothing that shows it is installed');
    expect(() => parseSystemPackages('# a comment\nfoo  rpm:foo  # why\n', 'list')).toThrow('list:2: unknown check "rpm:foo" (known: command, file, mbedtls)');
    expect(() => parseSystemPackages('foo command:\n', 'list')).toThrow('list:1: "command:" names no command');
  });

  it('is what the README set-up installs, in one line, and names the file', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const setup = readme.slice(readme.indexOf('## Set up'), readme.indexOf('\n## ', readme.indexOf('## Set up') + 1));
    const lines = setup.split('\n').filter((l) => /apt-get install /.test(l));
    expect(lines).toHaveLength(1);
    const names = lines[0].replace(/#.*/, '').replace(/.*apt-get install /, '').trim().split(/\s+/);
    expect(names).toEqual(readSystemPackages().map((p) => p.name));
    expect(setup).toContain('system-packages.txt');
    expect(setup).toContain('node scripts/prerequisites.mjs');
  });

  it('is what .ci/run installs: it asks the check, and keeps no list of its own', () => {
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    expect(ci).toContain('node scripts/prerequisites.mjs --missing');
    for (const p of readSystemPackages()) expect(ci).not.toMatch(new RegExp(`\\b${p.name}\\b`));
  });
});

describe('scripts/prerequisites.mjs', () => {
  it('finds everything the tests need on this machine, and says so in one line', () => {
    expect(missingPackages()).toEqual([]);
    const r = run([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('system prerequisites: build-essential, python3, libmbedtls-dev, chromium, mosquitto are there, and ../shared/vectors/public.json\n');
    expect(r.stderr).toBe('');
    expect(run(['--missing']).stdout).toBe('');
    expect(run(['--packages']).stdout).toBe('build-essential\npython3\nlibmbedtls-dev\nchromium\nmosquitto\n');
  });

  it('without a compiler or Python on PATH, stops with one line per missing package and the command that installs it', () => {
    const PATH = pathWithOnlyNode();
    const missing = missingPackages(readSystemPackages(), { PATH });
    expect(missing.map((m) => m.name)).toEqual(['build-essential', 'python3']);
    expect(missing[0].failed).toEqual([{ kind: 'command', arg: 'gcc' }, { kind: 'command', arg: 'g++' }, { kind: 'command', arg: 'make' }]);

    const r = run([], { ...process.env, PATH });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toEqual(report(missing));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^missing: build-essential \(no gcc on PATH, no g\+\+ on PATH, no make on PATH; .+\): (sudo )?apt-get install build-essential\b/);
    expect(lines[1]).toMatch(/^missing: python3 \(no python3 on PATH; .+\): (sudo )?apt-get install python3\b/);
    expect(lines[2]).toMatch(/^all of them: (sudo )?apt-get install build-essential python3\b/);
    expect(run(['--missing'], { ...process.env, PATH }).stdout).toBe('build-essential\npython3\n');
  });

  it('reports a missing file, and finds a command on PATH', () => {
    const [p] = parseSystemPackages('no-such-browser  file:/nonexistent/smgw/chromium  # a browser\n');
    const missing = missingPackages([p]);
    expect(missing).toHaveLength(1);
    expect(report(missing, { root: true, apt: true })).toEqual(['missing: no-such-browser (no /nonexistent/smgw/chromium; a browser): apt-get install no-such-browser']);
    expect(missingPackages(parseSystemPackages(`node  command:node  # this\n`))).toEqual([]);
    expect(onPath('node')).not.toBeNull();
  });

  it('says sudo when not root, and that the names are Debian\'s where there is no apt', () => {
    expect(installCommand(['a', 'b'], { root: false, apt: true })).toBe('sudo apt-get install a b');
    expect(installCommand(['a'], { root: true, apt: true })).toBe('apt-get install a');
    expect(installCommand(['a'], { root: true, apt: false })).toBe("apt-get install a (Debian's names; install your system's equivalent)");
  });

  it('names the shared vectors where the repository has none beside it', () => {
    expect(missingSharedFiles()).toEqual([]);
    const lonely = join(mkdtempSync(join(tmpdir(), 'smgw-prereq-root-')), 'smgw-lite');
    expect(missingSharedFiles(lonely)).toEqual(SHARED_FILES);
    expect(reportSharedFiles(missingSharedFiles(lonely))).toEqual([
      "missing: ../shared/vectors/public.json (the real-meter vectors the decoder, native and XS tests read): lay the project's shared/ folder beside the repository",
    ]);
  });

  it('names the list it reads', () => {
    expect(LIST).toBe(join(ROOT, 'system-packages.txt'));
  });
});
