// Runs inside the XS engine (bundled by tests/mqtt-packets.test.ts): the
// device's MQTT packets and its OMDP and Home Assistant payloads, made by the
// same code as on Node. One JSON request per command, one JSON answer.
//   {op: 'connect', options}                         -> {hex}
//   {op: 'publish', topic, payload, qos, retain, id}  -> {hex}   (payload: text)
//   {op: 'read', chunks: [hex...]}                    -> {packets: [{type, flags, body}]}
//   {op: 'reading', entry, meterId, zone, adapterId}  -> {text}
//   {op: 'discovery', prefix, topics, device, registers, channels} -> {configs}

import { PacketReader, encodeConnect, encodePublish, type Incoming } from '../../src/mqtt/packets';
import { meterReadingPayload } from '../../src/mqtt/omdp';
import { discoveryConfigs, gatewayTopics } from '../../src/mqtt/home-assistant';
import { fromHex, toHex } from '../../src/codec/bytes';
import { utf8Encode } from '../../src/codec/utf8';
import { answerJsonCommands } from './xs-json-commands';


// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Request = { [k: string]: any };

function answer(r: Request): object {
  if (r.op === 'connect') return { hex: toHex(encodeConnect(r.options)) };
  if (r.op === 'publish') return { hex: toHex(encodePublish(r.topic, utf8Encode(r.payload), r.qos, r.retain, r.id)) };
  if (r.op === 'read') {
    const reader = new PacketReader(r.max ?? 1024);
    const packets: { type: number; flags: number; body: string }[] = [];
    for (const c of r.chunks as string[]) reader.push(fromHex(c)!, (p: Incoming) => packets.push({ type: p.type, flags: p.flags, body: toHex(p.body) }));
    return { packets };
  }
  if (r.op === 'reading') return { text: meterReadingPayload(r.entry, r.meterId, r.zone, r.adapterId) };
  if (r.op === 'discovery') return { configs: discoveryConfigs(r.prefix, gatewayTopics(r.topic, r.clientId), r.device, r.registers, r.channels) };
  return { error: 'unknown op ' + r.op };
}

answerJsonCommands(answer);
