// The shape the firmware must keep to build for the ESP32: every folder of
// src/ is mapped and preloaded in manifest.json (a module left out links
// fine and fails at boot), and src/ imports nothing but its own modules.

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
  const esp32 = manifest.platforms.esp32;

  it('maps and preloads every folder of src/ for the ESP32', () => {
    const folders = [...new Set(sources.map((f) => relative(ROOT, f).replace(/\/[^/]+$/, '')))].sort();
    for (const folder of folders) {
      expect(esp32.modules[`${folder}/*`], folder).toBe(`./${folder}/*`);
      expect(esp32.preload, folder).toContain(`${folder}/*`);
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
