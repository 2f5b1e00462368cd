// smgw: the command line of smgw-lite.

// Each command's module is loaded when it is run: `smgw decode` starts without
// the backend's packages (fastify, the database drivers, X.509), which more
// than quadruple the start-up time. So the list of commands is here, not
// gathered from their modules; each command's options and help are in its own.
import { UsageError } from './usage';
import { closest, commandsHelp } from './options';
import { installNodeText } from '../hosts/sim/text';

installNodeText();

const COMMANDS: Record<string, [summary: string, run: (argv: string[]) => Promise<number>]> = {
  decode: ['decode meter telegrams into readings (JSON lines)', async (argv) => (await import('./decode')).decodeCommand(argv)],
  sim: ['run the firmware in the simulator against a virtual meter', async (argv) => (await import('./sim')).simCommand(argv)],
  meter: ['a virtual meter on a serial line (a USB adapter, or a pty for Moddable\'s simulator)', async (argv) => (await import('./meter')).meterCommand(argv)],
  log: ['show what a simulated device\'s reading log holds', async (argv) => (await import('./log')).logCommand(argv)],
  backend: ['the server devices deliver to: ingest over mutual TLS and MQTT, the query API, the registry', async (argv) => (await import('./backend')).backendCommand(argv)],
  concentrator: ['forwards meter adapters\' MQTT topics unmodified to an upstream broker (Open Meter Data Platform)', async (argv) => (await import('./concentrator')).concentratorCommand(argv)],
  release: ['the release key and signed firmware images (docs/ota.md)', async (argv) => (await import('./release')).releaseCommand(argv)],
};

const HELP = commandsHelp(
  'smgw',
  'the command line of smgw-lite (docs/cli.md)',
  Object.fromEntries(Object.entries(COMMANDS).map(([name, [summary]]) => [name, summary])),
  ['smgw sim --meter sml --days 7 --report report.json', 'smgw decode --protocol sml capture.bin', 'smgw help release sign   # the same as smgw release sign --help'],
);

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    process.stdout.write(HELP + '\n');
    return name === undefined ? 2 : 0;
  }
  // `smgw help sim` is `smgw sim --help`.
  if (name === 'help') return main([...rest, '--help']);
  if (!Object.hasOwn(COMMANDS, name)) {
    const near = closest(name, Object.keys(COMMANDS));
    throw new UsageError(`unknown command "${name}"; ` + (near ? `did you mean ${near}?` : 'smgw --help lists the commands'));
  }
  return COMMANDS[name][1](rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // One line a user can act on; a stack trace only for bugs, and only when asked for.
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`smgw: ${message}\n`);
    if (!(e instanceof UsageError) && process.env.SMGW_DEBUG) process.stderr.write(String((e as Error).stack) + '\n');
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
