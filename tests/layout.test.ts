// The shape the firmware must keep to build for Moddable (ESP32 and lin): every
// folder of src/ and hosts/moddable/ is mapped and preloaded in manifest.json (a
// module left out links fine, then loads into RAM or fails at boot), and src/
// imports nothing but its own modules.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

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

  it('maps and preloads every folder of src/ and of the Moddable host on every platform', () => {
    const folders = [...new Set([...sources, ...files(join(ROOT, 'hosts/moddable'))].map((f) => relative(ROOT, f).replace(/\/[^/]+$/, '')))]
      .filter((f) => !f.endsWith('/typings'))
      .sort();
    for (const platform of ['esp32', 'lin']) {
      const p = manifest.platforms[platform];
      for (const folder of folders) {
        const own = folder.match(/^hosts\/moddable\/(esp32|lin)$/)?.[1];
        if (own && own !== platform) continue;
        const modules = own ? p.modules : manifest.modules;
        const preload = own ? p.preload : manifest.preload;
        expect(modules[`${folder}/*`], `${platform}: ${folder}`).toBe(`./${folder}/*`);
        expect(preload, `${platform}: ${folder}`).toContain(`${folder}/*`);
      }
    }
  });

  it('src/ imports only its own modules: no Node, no Moddable, no packages', () => {
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)) {
        expect(m[1].startsWith('./') || m[1].startsWith('../'), `${relative(ROOT, file)} imports ${m[1]}`).toBe(true);
      }
      expect(/\b(?:Buffer|process|require)\s*[.(]/.test(text), `${relative(ROOT, file)} uses a Node global`).toBe(false);
    }
  });
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
