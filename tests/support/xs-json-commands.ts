// The command loop of the test programs that run inside XS (xs-crypto-main.ts, xs-mqtt-main.ts): one JSON
// request per command, one JSON answer; whatever `answer` throws comes back as {error}.

export function answerJsonCommands<R>(answer: (request: R) => object): void {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  globalThis.handleCommand = (message: ArrayBuffer): ArrayBuffer => {
    let out: object;
    try {
      out = answer(JSON.parse(decoder.decode(new Uint8Array(message))) as R);
    } catch (e) {
      out = { error: String(e) };
    }
    return encoder.encode(JSON.stringify(out)).buffer as ArrayBuffer;
  };
}
