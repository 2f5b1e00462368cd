// smgw concentrator: the Open Meter Data Platform's concentrator. It
// subscribes to the meter adapters' topics on a local broker and forwards
// every message unmodified to `concentrator/{id}/smartMeterMessage/...` on
// the upstream broker, at QoS 1; a message is acknowledged to the local
// broker only once the upstream one has acknowledged it, so a concentrator
// or uplink outage loses nothing the local broker keeps for its session.

import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { command, parse } from './options';

export const CONCENTRATOR = command({
  name: 'smgw concentrator',
  summary: "forwards meter adapters' MQTT topics unmodified to an upstream broker (Open Meter Data Platform, docs/mqtt.md)",
  options: {
    id: { type: 'string', value: 'ID', required: true, description: "the concentrator's id (a topic level): upstream topics are concentrator/ID/smartMeterMessage/..." },
    from: { type: 'string', value: 'mqtt(s)://LOCAL', required: true, description: 'the local broker the meter adapters publish to (subscribed: smartMeterMessage/+/+)' },
    to: { type: 'string', value: 'mqtt(s)://UPSTREAM', required: true, description: "the upstream broker (the backend's, EMQX, AWS IoT Core ...)" },
    ca: { type: 'string', value: 'FILE', description: "the upstream broker's CA (PEM)" },
    cert: { type: 'string', value: 'FILE', description: "this concentrator's certificate for the upstream broker (PEM)" },
    key: { type: 'string', value: 'FILE', description: "this concentrator's private key for the upstream broker (PEM)" },
  },
  examples: ['smgw concentrator --id house-7 --from mqtt://127.0.0.1:1883 --to mqtts://backend.example:8883 --ca ca.pem --cert c.pem --key c.key'],
});

interface Concentrator {
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
  const args = parse(CONCENTRATOR, argv);
  if (!args) return 0;
  const { values } = args;
  const read = (f?: string) => (f ? readFileSync(f, 'utf8') : undefined);
  const c = await startConcentrator({ id: values.id, from: values.from, to: values.to, toOptions: { ca: read(values.ca), cert: read(values.cert), key: read(values.key) } });
  process.stdout.write(`smgw concentrator ${values.id}: forwarding ${TOPIC} from ${values.from} to ${values.to} as concentrator/${values.id}/...\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await c.close();
  process.stdout.write(`smgw concentrator: ${c.forwarded} messages forwarded\n`);
  return 0;
}
