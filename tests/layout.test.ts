// The shape the firmware must keep to build for Moddable (ESP32 and lin): every
// folder of src/ and hosts/moddable/ is mapped in manifest.json and every module
// in it is preloaded by name (a module left out links fine, then loads into RAM:
// before this was checked, all of them did, 6,800 slots and 30 KB before main()
// ran), and src/ uses no Node global. The layers (docs/architecture.md): the
// import rules of .dependency-cruiser.cjs hold, and no folder imports itself
// through others.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const ROOT = join(__dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the firmware layout', () => {
  const sources = files(join(ROOT, 'src'));
  const manifest = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8'));

  it('maps every folder of src/ and of the Moddable host, and preloads every module in it by name, on every platform', () => {
    const modules = [...sources, ...files(join(ROOT, 'hosts/moddable'))]
      .map((f) => relative(ROOT, f).replace(/\.ts$/, ''))
      .filter((m) => !m.includes('/typings/') && !m.endsWith('.d'))
      .sort();
    // mcconfig matches a preload pattern with a "*" against JavaScript modules only
    // (tools/mcconfig.js, filterPreload): a TypeScript module is preloaded only by its name.
    expect([...manifest.preload, ...manifest.platforms.esp32.preload, ...manifest.platforms.lin.preload].filter((p: string) => p.includes('*'))).toEqual([]);
    for (const platform of ['esp32', 'lin']) {
      const p = manifest.platforms[platform];
      const preloaded = new Set([...manifest.preload, ...p.preload]);
      // A module mapped by its own name (lin's stand-in for an SDK module) is preloaded by that name.
      const named = new Map(Object.entries({ ...manifest.modules, ...p.modules } as Record<string, string>).filter(([k]) => !k.endsWith('*')).map(([k, v]) => [v.replace(/^\.\//, ''), k]));
      for (const m of modules) {
        const folder = m.replace(/\/[^/]+$/, '');
        const own = folder.match(/^hosts\/moddable\/(esp32|lin)(\/|$)/)?.[1];
        if (own && own !== platform) continue;
        const name = named.get(m);
        if (name === undefined) expect((own ? p.modules : manifest.modules)[`${folder}/*`], `${platform}: ${folder}`).toBe(`./${folder}/*`);
        expect(preloaded.has(name ?? m), `${platform}: ${name ?? m} is not preloaded`).toBe(true);
      }
    }
  });

  it('writes no object at run time that a module made while preloading (read-only in flash on the device)', () => {
    // XS makes a preloaded Map, Set, ArrayBuffer or Date read-only: a cache or scratch buffer made when the
    // module loads throws on the device when written, though it works on Node and in xsnap (no preload there).
    const made = /^(?:export )?(?:const|let) (\w+)(?:: [^=]+)? = new (?:Map|Set|WeakMap|Date|ArrayBuffer|DataView|(?:Ui|I)nt(?:8|16|32)(?:Clamped)?Array|Float(?:32|64)Array)\b/gm;
    for (const file of [...sources, ...files(join(ROOT, 'hosts/moddable'))]) {
      const text = readFileSync(file, 'utf8');
      for (const [, name] of text.matchAll(made)) {
        // Written inside a function (an indented line), not while the module body fills a table.
        const written = new RegExp(`^\\s+.*\\b${name}(?:\\[[^\\]]+\\]\\s*(?:[-+*/|&^]|<<|>>>?)?=(?!=)|\\.(?:set|fill|add|delete|clear|setTime|copyWithin)\\(|\\.set(?:Ui|I)nt|\\.setFloat)`, 'm');
        expect(written.test(text), `${relative(ROOT, file)}: ${name} is made when the module loads and written at run time`).toBe(false);
      }
    }
  });

  it('src/ uses no Node global (what it imports, the layer rules below check)', () => {
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      expect(/\b(?:Buffer|process|require)\s*[.(]/.test(text), `${relative(ROOT, file)} uses a Node global`).toBe(false);
    }
  });
});

/** Groups of modules between which no import may go round in a cycle; null: not in any group. */
type Grouping = (module: string) => string | null;

/** The cycles of the graph between groups that the cruise's imports make. */
function groupCycles(result: ICruiseResult, group: Grouping): string[] {
  const edges = new Map<string, Set<string>>();
  for (const m of result.modules) {
    const from = group(m.source);
    if (from === null) continue;
    for (const d of m.dependencies) {
      const to = d.coreModule || d.couldNotResolve ? null : group(d.resolved);
      if (to === null || to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    path.push(n);
    for (const next of edges.get(n) ?? []) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].join(' → '));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(n, 'done');
  };
  for (const n of edges.keys()) if (!state.has(n)) visit(n);
  return cycles;
}

describe('the layers', () => {
  let result: ICruiseResult;
  beforeAll(async () => {
    const options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'));
    const output = await cruise(['src', 'hosts', 'simulator', 'backend', 'cli'], { ...options, baseDir: ROOT }, undefined, { tsConfig: extractTSConfig(join(ROOT, 'tsconfig.json')) });
    result = output.output as ICruiseResult;
  }, 60000);

  it('break none of the rules in .dependency-cruiser.cjs (who imports whom, no cycle of modules or of folders)', () => {
    expect(result.modules.length).toBeGreaterThan(200);
    expect(result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ' (' + v.cycle.map((c) => c.name).join(' → ') + ')' : ''}`)).toEqual([]);
  });

  it('have no cycle between the top-level folders, nor between the folders of src/ taken whole', () => {
    expect(groupCycles(result, (m) => (/^(src|hosts|simulator|backend|cli)\//.test(m) ? m.slice(0, m.indexOf('/')) : null))).toEqual([]);
    // A module at the top of src/ (the composition root src/app.ts, leaves like src/version.ts) is a node of its own.
    expect(groupCycles(result, (m) => (m.startsWith('src/') ? m.split('/').slice(0, 2).join('/') : null))).toEqual([]);
  });

  it('are drawn as they are in docs/architecture.md (npm run graph draws them again)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/graph.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr + r.stdout).toBe('graph: docs/architecture.md is current\n');
    expect(r.status).toBe(0);
  }, 60000);
});

describe('the portal pages in the ESP32 build', () => {
  it('are the manifest\'s resources, JavaScript included', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8'));
    expect(manifest.resources['*']).toContain('./assets/portal/*');
    // mcconfig's resources rule skips .js and .json files (it takes them for modules); its data rule keeps
    // any file as it is, into the same resource map. Each such page file must be listed there by name.
    for (const file of readdirSync(join(ROOT, 'assets', 'portal'))) {
      if (/\.(js|json)$/.test(file)) expect(manifest.data?.['*'], file).toContain(`./assets/portal/${file}`);
    }
  });
});
