// The device's MQTT 3.1.1 packets (src/mqtt/packets.ts, what hosts/moddable/mqtt.ts
// sends over its socket): their bytes by the standard, against a real broker
// (aedes) over a raw TCP socket, and the same bytes and payloads made inside
// the XS engine.

import { createServer, connect as tcpConnect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { build } from 'esbuild';
import { Aedes } from 'aedes';
import { CONNACK, PINGRESP, PUBACK, PUBLISH, PacketReader, connackCode, encodeConnect, encodePublish, packetId, DISCONNECT_PACKET, PINGREQ_PACKET, type Incoming } from '../src/mqtt/packets';
import { meterReadingPayload, parseMeterReading } from '../src/mqtt/omdp';
import { discoveryConfigs, gatewayTopics } from '../src/mqtt/home-assistant';
import { fromHex, toHex } from '../src/codec/bytes';
import { XsWorker } from '../hosts/xsnap/worker';
import type { MqttConnectOptions } from '../src/ports/mqtt';
import type { ReadingEntry } from '../src/formats/entries';

const ascii = (s: string) => toHex(new TextEncoder().encode(s));
const str = (s: string) => (s.length < 16 ? '000' : '00') + s.length.toString(16) + ascii(s);

const OPTIONS: MqttConnectOptions = {
  host: 'broker',
  port: 1883,
  clientId: 'dev-1',
  keepAlive: 60,
  username: 'u',
  password: 'p',
  will: { topic: 's/d/availability', payload: 'offline', qos: 1, retain: true },
};

describe('MQTT 3.1.1 packets', () => {
  it('CONNECT: protocol "MQTT" level 4, clean session, will QoS 1 retained, user and password flags, keep-alive, fields in order (3.1)', () => {
    const body = str('MQTT') + '04' + 'ee' + '003c' + str('dev-1') + str('s/d/availability') + str('offline') + str('u') + str('p');
    expect(toHex(encodeConnect(OPTIONS))).toBe('10' + (body.length / 2).toString(16).padStart(2, '0') + body);
    // Without will, user or password: clean session alone.
    expect(toHex(encodeConnect({ host: 'h', port: 1, clientId: 'x', keepAlive: 0 }))).toBe('100d' + str('MQTT') + '04' + '02' + '0000' + str('x'));
  });

  it('PUBLISH: QoS and retain in the flags, the packet id after the topic at QoS 1 only, a remaining length over 127 in two bytes (3.3, 2.2.3)', () => {
    expect(toHex(encodePublish('t/a/b', new TextEncoder().encode('hi'), 1, true, 0x1234))).toBe('33' + '0b' + str('t/a/b') + '1234' + ascii('hi'));
    expect(toHex(encodePublish('t', Uint8Array.of(1), 0, false, 0))).toBe('30' + '04' + str('t') + '01');
    const long = encodePublish('t', new Uint8Array(200), 1, false, 1);
    // 2 + 1 + 2 + 200 = 205 = 0xcd: 0x4d | 0x80, 0x01
    expect(toHex(long.subarray(0, 3))).toBe('32cd01');
    expect(long.length).toBe(3 + 205);
  });

  it('reads CONNACK, PUBACK and PINGRESP however the socket splits them; skips a PUBLISH too large to keep; refuses a malformed length', () => {
    const stream = fromHex('20020000' + '40020007' + 'd000' + '40021234')!;
    for (let cut = 0; cut <= stream.length; cut++) {
      const got: Incoming[] = [];
      const reader = new PacketReader();
      reader.push(stream.subarray(0, cut), (p) => got.push(p));
      for (const b of stream.subarray(cut)) reader.push(Uint8Array.of(b), (p) => got.push(p));
      expect(got.map((p) => p.type)).toEqual([CONNACK, PUBACK, PINGRESP, PUBACK]);
      expect(connackCode(got[0])).toBe(0);
      expect([packetId(got[1]), packetId(got[3])]).toEqual([7, 0x1234]);
    }
    const reader = new PacketReader(16);
    const got: Incoming[] = [];
    reader.push(encodePublish('big/topic', new Uint8Array(100), 0, false, 0), (p) => got.push(p));
    reader.push(fromHex('40020009')!, (p) => got.push(p));
    expect(got.map((p) => [p.type, packetId(p)])).toEqual([[PUBACK, 9]]);
    expect(() => new PacketReader().push(fromHex('30ffffffff01')!, () => undefined)).toThrow('MQTT: malformed remaining length');
  });
});

describe('the packets against a real broker (aedes), over a raw TCP socket', () => {
  let broker: Aedes;
  let port: number;
  const received: { topic: string; payload: string; retain: boolean; qos: number }[] = [];

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    broker.subscribe('#', (packet, done) => {
      if (!packet.topic.startsWith('$SYS')) received.push({ topic: packet.topic, payload: packet.payload.toString(), retain: packet.retain, qos: packet.qos });
      done();
    }, () => undefined);
    afterAll(async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  });

  /** A raw connection: what the broker sends, as packets, one promise per expected packet. */
  function open(): { socket: Socket; next: () => Promise<Incoming>; closed: Promise<void> } {
    const socket = tcpConnect(port, '127.0.0.1');
    const reader = new PacketReader();
    const queue: Incoming[] = [];
    const waiting: ((p: Incoming) => void)[] = [];
    socket.on('data', (d) => reader.push(new Uint8Array(d), (p) => (waiting.length ? waiting.shift()!(p) : queue.push(p))));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    onTestFinished(() => void socket.destroy());
    return { socket, next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve))), closed };
  }

  it('CONNECT is accepted, QoS 1 PUBLISH is acknowledged by its id and delivered as sent, PINGREQ answered, DISCONNECT sends no will; a dropped connection does', async () => {
    const c = open();
    c.socket.write(encodeConnect({ ...OPTIONS, username: undefined, password: undefined, clientId: 'dev-raw' }));
    const connack = await c.next();
    expect([connack.type, connackCode(connack)]).toEqual([CONNACK, 0]);
    c.socket.write(encodePublish('smartMeterMessage/M1/readings', new TextEncoder().encode('{"x":1}'), 1, false, 7));
    const ack = await c.next();
    expect([ack.type, packetId(ack)]).toEqual([PUBACK, 7]);
    c.socket.write(PINGREQ_PACKET);
    expect((await c.next()).type).toBe(PINGRESP);
    c.socket.write(DISCONNECT_PACKET);
    await c.closed;
    expect(received.filter((r) => r.topic.startsWith('s/d') || r.topic.startsWith('smartMeter'))).toEqual([{ topic: 'smartMeterMessage/M1/readings', payload: '{"x":1}', retain: false, qos: 1 }]);

    const d = open();
    d.socket.write(encodeConnect({ ...OPTIONS, username: undefined, password: undefined, clientId: 'dev-raw-2' }));
    expect((await d.next()).type).toBe(CONNACK);
    const will = new Promise<void>((resolve) => {
      const heard = (p: { topic: string }) => {
        if (p.topic !== 's/d/availability') return;
        broker.off('publish', heard);
        resolve();
      };
      broker.on('publish', heard);
    });
    d.socket.destroy();
    await will;
    expect(received.at(-1)).toEqual({ topic: 's/d/availability', payload: 'offline', retain: true, qos: 1 });
  });

  it('a broker that refuses the client: CONNACK with its return code', async () => {
    const strict = await Aedes.createBroker({ authenticate: (_c, _u, _p, done) => done(Object.assign(new Error('no'), { returnCode: 4 as const }), false) });
    const server = createServer(strict.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => strict.close(() => server.close(() => resolve()))));
    const socket = tcpConnect((server.address() as AddressInfo).port, '127.0.0.1');
    onTestFinished(() => void socket.destroy());
    const reader = new PacketReader();
    const answer = new Promise<Incoming>((resolve) => socket.on('data', (d) => reader.push(new Uint8Array(d), resolve)));
    socket.write(encodeConnect(OPTIONS));
    const connack = await answer;
    expect([connack.type, connackCode(connack)]).toEqual([CONNACK, 4]);
  });
});

describe('inside the XS engine', () => {
  let xs: XsWorker;
  const ask = async (request: object): Promise<{ [k: string]: unknown }> => {
    const { reply } = await xs.command(new TextEncoder().encode(JSON.stringify(request)));
    return JSON.parse(new TextDecoder().decode(reply));
  };

  beforeAll(async () => {
    const bundle = await build({ entryPoints: ['tests/support/xs-mqtt-main.ts'], bundle: true, write: false, platform: 'neutral', format: 'iife', target: 'es2022', logLevel: 'warning' });
    xs = XsWorker.start();
    await xs.evaluate(bundle.outputFiles[0].text);
  });
  afterAll(async () => {
    await xs?.close();
  });

  it('makes the same CONNECT and PUBLISH bytes and reads the same packets as Node', async () => {
    expect((await ask({ op: 'connect', options: OPTIONS })).hex).toBe(toHex(encodeConnect(OPTIONS)));
    const payload = '{"meterId":"1ESY1161229886","ü":"€"}';
    expect((await ask({ op: 'publish', topic: 'smartMeterMessage/1ESY1161229886/readings', payload, qos: 1, retain: false, id: 65535 })).hex).toBe(
      toHex(encodePublish('smartMeterMessage/1ESY1161229886/readings', new TextEncoder().encode(payload), 1, false, 65535)),
    );
    const got = await ask({ op: 'read', chunks: ['200200', '00400200', '07d0', '00'] });
    expect(got.packets).toEqual([
      { type: CONNACK, flags: 0, body: '0000' },
      { type: PUBACK, flags: 0, body: '0007' },
      { type: PINGRESP, flags: 0, body: '' },
    ]);
    void PUBLISH;
  });

  it('makes the same MeterReading (which the backend reads back to the logged entry) and the same discovery configs', async () => {
    const entry: ReadingEntry = { type: 'reading', kind: 'daily', time: Date.UTC(2025, 2, 29, 23), offset: -2, source: 'meter', meterId: '1ESY1161229886', values: { '1-0:1.8.0': { value: 12345678.9, unit: 'Wh' }, '1-1:2.8.0': { value: 5, unit: 'Wh' }, '1-0:3.8.0': { value: 77, unit: 'varh' } } };
    const node = meterReadingPayload(entry, '1ESY1161229886', 'Europe/Berlin', 'smgw-1');
    expect((await ask({ op: 'reading', entry, meterId: '1ESY1161229886', zone: 'Europe/Berlin', adapterId: 'smgw-1' })).text).toBe(node);
    expect(JSON.parse(node)).toEqual({
      meterId: '1ESY1161229886',
      // Local midnight of the day summer time starts, with winter's offset.
      readingTime: '2025-03-30T00:00:00+01:00',
      kind: 'taf6',
      flags: ['daily', 'timed-by-meter-clock', 'capture-offset:-2s'],
      propertyValues: [
        { propertyId: 'OBIS_1.8.0', value: 12345678.9, unit: 'Wh' },
        { propertyId: 'OBIS_1-1:2.8.0', value: 5, unit: 'Wh' },
        { propertyId: 'OBIS_3.8.0', value: 77, unit: 'varh' },
      ],
      adapterId: 'smgw-1',
    });
    expect(parseMeterReading(node)).toEqual({ meterId: '1ESY1161229886', adapterId: 'smgw-1', entry });
    const args = { prefix: 'homeassistant', topic: 'smgw', clientId: 'smgw-1', device: { clientId: 'smgw-1', meterId: '1ESY1161229886', protocol: 'sml' }, registers: { '1-0:1.8.0': 'Wh', '1-0:2.8.0': 'Wh', '1-0:3.8.0': 'varh' }, channels: ['p', 'u1', 'i1'] };
    const inNode = discoveryConfigs(args.prefix, gatewayTopics(args.topic, args.clientId), args.device, args.registers, args.channels);
    // Reactive energy has no Home Assistant energy class of its own here: two registers and three live channels.
    expect(inNode.map((d) => d.topic)).toEqual([
      'homeassistant/sensor/smgw_smgw-1/energy_1_8_0/config',
      'homeassistant/sensor/smgw_smgw-1/energy_2_8_0/config',
      'homeassistant/sensor/smgw_smgw-1/p/config',
      'homeassistant/sensor/smgw_smgw-1/u1/config',
      'homeassistant/sensor/smgw_smgw-1/i1/config',
    ]);
    expect((await ask({ op: 'discovery', ...args })).configs).toEqual(inNode);
  });
});
