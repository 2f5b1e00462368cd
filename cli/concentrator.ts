// smgw concentrator: the Open Meter Data Platform's concentrator. It
// subscribes to the meter adapters' topics on a local broker and forwards
// every message unmodified to `concentrator/{id}/smartMeterMessage/...` on
// the upstream broker, at QoS 1; a message is acknowledged to the local
// broker only once the upstream one has acknowledged it, so a concentrator
// or uplink outage loses nothing the local broker keeps for its session.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { fail } from './usage';

export const CONCENTRATOR_USAGE = `usage: smgw concentrator --id ID --from mqtt(s)://LOCAL --to mqtt(s)://UPSTREAM [--ca FILE] [--cert FILE] [--key FILE]
  --id              the concentrator's id (a topic level): upstream topics are concentrator/ID/smartMeterMessage/...
  --from            the local broker the meter adapters publish to (subscribed: smartMeterMessage/+/+)
  --to              the upstream broker (the backend's, EMQX, AWS IoT Core ...)
  --ca/--cert/--key PEM files for TLS to the upstream broker (its CA, this concentrator's certificate and key)`;

export interface Concentrator {
  forwarded: number;
  close(): Promise<void>;
}

const TOPIC = 'smartMeterMessage/+/+';

function connected(client: MqttClient): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/** Starts forwarding from `from` to `to`; resolves once both brokers are connected and the subscription holds. */
export async function startConcentrator(o: { id: string; from: string; to: string; fromOptions?: IClientOptions; toOptions?: IClientOptions }): Promise<Concentrator> {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(o.id)) throw new Error('--id: letters, digits and - _ . only (one topic level)');
  const upstream = await connected(mqtt.connect(o.to, { protocolVersion: 4, clientId: `smgw-concentrator-${o.id}`, clean: true, reconnectPeriod: 1000, ...o.toOptions }));
  const state: Concentrator = { forwarded: 0, close: async () => undefined };
  const local = mqtt.connect(o.from, { protocolVersion: 4, clientId: `smgw-concentrator-${o.id}-in`, clean: false, reconnectPeriod: 1000, ...o.fromOptions });
  // The local PUBACK waits for the upstream one.
  local.handleMessage = (packet, callback) => {
    upstream.publish(`concentrator/${o.id}/${packet.topic}`, packet.payload as Buffer, { qos: 1, retain: false }, (e) => {
      if (!e) state.forwarded++;
      callback(e ?? undefined);
    });
  };
  await connected(local);
  await local.subscribeAsync(TOPIC, { qos: 1 });
  state.close = async () => {
    await local.endAsync();
    await upstream.endAsync();
  };
  return state;
}

export async function concentratorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { id: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, ca: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } } });
  if (!values.id || !values.from || !values.to) fail(CONCENTRATOR_USAGE);
  const read = (f?: string) => (f ? readFileSync(f, 'utf8') : undefined);
  const c = await startConcentrator({ id: values.id!, from: values.from!, to: values.to!, toOptions: { ca: read(values.ca), cert: read(values.cert), key: read(values.key) } });
  process.stdout.write(`smgw concentrator ${values.id}: forwarding ${TOPIC} from ${values.from} to ${values.to} as concentrator/${values.id}/...\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await c.close();
  process.stdout.write(`smgw concentrator: ${c.forwarded} messages forwarded\n`);
  return 0;
}
