// Runs inside the XS engine (bundled by tests/crypto-port.test.ts): the
// crypto port as the firmware sees it there (the bridge to the Node side),
// and the event chain computed and checked with it. One JSON request per
// command, one JSON answer.
//   {op: 'sha256', data}                              -> {hex}
//   {op: 'pbkdf2', password, salt, iterations, length} -> {hex}
//   {op: 'random', length}                            -> {hex}
//   {op: 'cbc', key, iv, data}                        -> {hex} (AES-128-CBC decryption)
//   {op: 'chain', events: [...]}                      -> {hashes, status}
// (Byte fields are hex.)

import { bridgedCrypto } from '../../hosts/xsnap/crypto-bridge';
import { fromHex, toHex } from '../../src/codec/bytes';
import { ChainVerifier, type SeqEvent } from '../../src/formats/event-chain';
import { answerJsonCommands } from './xs-json-commands';


interface Request {
  op: string;
  data?: string;
  password?: string;
  salt?: string;
  iterations?: number;
  length?: number;
  key?: string;
  iv?: string;
  events?: (Omit<SeqEvent, 'prev'> & { prev: string })[];
}

function answer(r: Request): object {
  if (r.op === 'sha256') return { hex: toHex(bridgedCrypto.sha256(fromHex(r.data!)!)) };
  if (r.op === 'pbkdf2') return { hex: toHex(bridgedCrypto.pbkdf2(fromHex(r.password!)!, fromHex(r.salt!)!, r.iterations!, r.length!)) };
  if (r.op === 'random') return { hex: toHex(bridgedCrypto.random(r.length!)) };
  if (r.op === 'cbc') {
    const key = bridgedCrypto.importKey(fromHex(r.key!)!);
    try {
      return { hex: toHex(key.cbcDecrypt(fromHex(r.iv!)!, fromHex(r.data!)!)) };
    } finally {
      key.close();
    }
  }
  if (r.op === 'chain') {
    const verifier = new ChainVerifier((d) => bridgedCrypto.sha256(d));
    const hashes: string[] = [];
    for (const e of r.events!) {
      const event: SeqEvent = { ...e, prev: fromHex(e.prev)! };
      verifier.add(event);
      hashes.push(toHex(verifier.last!.hash));
    }
    return { hashes, status: verifier.status() };
  }
  return { error: 'unknown op ' + r.op };
}

answerJsonCommands(answer);
