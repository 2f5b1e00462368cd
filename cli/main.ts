// smgw: the command line of smgw-lite.

// Each command's module is loaded when it is run: `smgw decode` starts without
// the backend's packages (fastify, the database drivers, X.509), which more
// than quadruple the start-up time.
import { UsageError } from './usage';
import { installNodeText } from '../hosts/sim/text';

installNodeText();

async function usage(): Promise<string> {
  const [decode, sim, meter, log, backend, release, concentrator] = await Promise.all([import('./decode'), import('./sim'), import('./meter'), import('./log'), import('./backend'), import('./release'), import('./concentrator')]);
  return `usage: smgw <command> [options]

commands:
  decode    decode meter telegrams into readings (JSON lines)
  sim       run the firmware in the simulator against a virtual meter
  meter     a virtual meter on a serial line (a USB adapter, or a pty for Moddable's simulator)
  log       show what a simulated device's reading log holds
  backend   the server devices deliver to: ingest over mutual TLS and MQTT, the query API, the registry
  concentrator  forwards meter adapters' MQTT topics unmodified to an upstream broker (Open Meter Data Platform)
  release   the release key and signed firmware images (docs/ota.md)

${decode.DECODE_USAGE}

${sim.SIM_USAGE}

${meter.METER_USAGE}

${log.LOG_USAGE}

${backend.BACKEND_USAGE}

${release.RELEASE_USAGE}

${concentrator.CONCENTRATOR_USAGE}`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'decode':
      return (await import('./decode')).decodeCommand(rest);
    case 'sim':
      return (await import('./sim')).simCommand(rest);
    case 'meter':
      return (await import('./meter')).meterCommand(rest);
    case 'log':
      return (await import('./log')).logCommand(rest);
    case 'backend':
      return (await import('./backend')).backendCommand(rest);
    case 'release':
      return (await import('./release')).releaseCommand(rest);
    case 'concentrator':
      return (await import('./concentrator')).concentratorCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write((await usage()) + '\n');
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}" (try smgw help)`);
  }
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
    process.exitCode = e instanceof UsageError || (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
  },
);
