// npm run bench: measures speed and memory and prints a table; the figures
// are kept as JSON in bench-results/ (latest.json and one file per run) for
// comparison between commits. Not a test: nothing here asserts a time.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchBackend } from './backend';
import { benchMqtt } from './mqtt';
import { benchDecoders } from './decoders';
import { benchModdable } from './moddable';
import { benchNative } from './native';
import { benchOta } from './ota';
import { benchSimulator } from './sim';
import { benchStore } from './store';
import { printTable, writeJson, meets, type Row } from './report';
import { installNodeText } from '../../hosts/sim/text';

// The Node host's native text decoding, as the command line and the simulator use it.
installNodeText();

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    vectors: { type: 'string', default: '../shared/vectors/public.json' },
    out: { type: 'string', default: 'bench-results' },
  },
});

const vectors = JSON.parse(readFileSync(values.vectors!, 'utf8'));
const rows: Row[] = [];
rows.push(...(await benchDecoders(vectors, { ms: values.quick ? 200 : 1000, xsTelegrams: values.quick ? 1000 : 10000 })));
rows.push(...benchNative());
rows.push(...benchOta());
rows.push(...benchModdable());
rows.push(...(await benchSimulator({ meter: 'dlms-mbus', days: values.quick ? 1 : 7 })));
rows.push(...(await benchStore()));
rows.push(...(await benchBackend({ quick: values.quick! })));
rows.push(...(await benchMqtt({ quick: values.quick! })));

printTable(rows);
const file = writeJson(values.out!, rows, { date: new Date().toISOString(), node: process.version, quick: values.quick });
const missed = rows.filter((r) => meets(r) === false);
console.log(`\nfigures written to ${file}${missed.length ? `; ${missed.length} target(s) missed` : '; all targets met'}`);
