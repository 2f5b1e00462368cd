// Fault specifications for `smgw sim --fault`:
//   outage:FROM/TO            the network is down (ISO times, or DAYn for the start of day n of the run)
//   power-cut:every=DURATION[,mid-write]
//                             the device dies at a random point in every DURATION (e.g. 5h, 90m, 2d);
//                             with mid-write, in the middle of its next flash program or erase
//   clock-jump:+SECONDS@ISO   the device's clock jumps (as a wrong SNTP answer would make it)
//   noise:RATE                bit errors on the serial line, RATE per bit (e.g. 1e-5)
//   meter-silent:FROM/TO      the meter sends nothing
//   sntp-skew:+SECONDS@FROM/TO  the SNTP server answers that much off (a wrong or hostile server)
//   replay:ISO                an attacker on the meter line sends the telegram before the last one again

export type Fault =
  | { kind: 'outage'; from: number; to: number }
  | { kind: 'power-cut'; every: number; midWrite: boolean }
  | { kind: 'clock-jump'; by: number; at: number }
  | { kind: 'noise'; rate: number }
  | { kind: 'meter-silent'; from: number; to: number }
  | { kind: 'sntp-skew'; by: number; from: number; to: number }
  | { kind: 'replay'; at: number };

const DAY = 86400000;

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`invalid duration "${text}" (use e.g. 90s, 15m, 5h, 2d)`);
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: DAY }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** An ISO time, or DAYn: the start of the run's day n (DAY0 is the first). */
export function parseTime(text: string, start: number): number {
  const day = /^DAY(\d+)$/i.exec(text);
  if (day) return start + Number(day[1]) * DAY;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`invalid time "${text}" (ISO 8601, or DAYn)`);
  return t;
}

function window(body: string, start: number, name: string): { from: number; to: number } {
  const [a, b] = body.split('/');
  if (!a || !b) throw new Error(`${name} needs FROM/TO`);
  const from = parseTime(a, start);
  const to = parseTime(b, start);
  if (!(to > from)) throw new Error(`${name}: TO must be after FROM`);
  return { from, to };
}

export function parseFault(spec: string, start: number): Fault {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const body = colon < 0 ? '' : spec.slice(colon + 1);
  switch (kind) {
    case 'outage':
      return { kind, ...window(body, start, 'outage') };
    case 'meter-silent':
      return { kind, ...window(body, start, 'meter-silent') };
    case 'power-cut': {
      const m = /^every=([^,]+)(,mid-write)?$/.exec(body);
      if (!m) throw new Error('power-cut needs every=DURATION (and ,mid-write to cut during flash writes)');
      return { kind, every: parseDuration(m[1]), midWrite: m[2] !== undefined };
    }
    case 'clock-jump': {
      const m = /^([+-]\d+(?:\.\d+)?)@(.+)$/.exec(body);
      if (!m) throw new Error('clock-jump needs +SECONDS@ISO (or -SECONDS@ISO)');
      return { kind, by: Number(m[1]) * 1000, at: parseTime(m[2], start) };
    }
    case 'noise': {
      const rate = Number(body);
      if (!(rate >= 0 && rate < 1)) throw new Error('noise needs a bit error rate between 0 and 1');
      return { kind, rate };
    }
    case 'sntp-skew': {
      const m = /^([+-]\d+(?:\.\d+)?)@(.+)$/.exec(body);
      if (!m) throw new Error('sntp-skew needs +SECONDS@FROM/TO');
      return { kind, by: Number(m[1]) * 1000, ...window(m[2], start, 'sntp-skew') };
    }
    case 'replay':
      if (!body) throw new Error('replay needs a time');
      return { kind, at: parseTime(body, start) };
    default:
      throw new Error(`unknown fault "${kind}" (outage, power-cut, clock-jump, noise, meter-silent, sntp-skew, replay)`);
  }
}
