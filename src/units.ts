// Units. Meters speak DLMS unit codes (DLMS and SML) or unit text (IEC
// 62056-21, DSMR); readings carry canonical units: energy Wh / varh, power
// W / var, V, A, Hz, m3. Each entry maps to a canonical unit and the power of
// ten that gets there (kWh -> Wh is 10^3).

export interface UnitScale {
  readonly unit: string;
  readonly exp: number;
}

const u = (unit: string, exp = 0): UnitScale => ({ unit, exp });

/** DLMS Blue Book unit enumeration (also used by SML). Codes not listed keep no unit. */
const DLMS_UNITS: { [code: number]: UnitScale } = {
  1: u('a'),
  2: u('mo'),
  3: u('wk'),
  4: u('d'),
  5: u('h'),
  6: u('min'),
  7: u('s'),
  8: u('deg'),
  9: u('degC'),
  10: u('currency'),
  11: u('m'),
  12: u('m/s'),
  13: u('m3'),
  14: u('m3'),
  15: u('m3/h'),
  16: u('m3/h'),
  17: u('m3/d'),
  18: u('m3/d'),
  19: u('m3', -3),
  20: u('kg'),
  23: u('Pa'),
  24: u('bar'),
  25: u('J'),
  26: u('J/h'),
  27: u('W'),
  28: u('VA'),
  29: u('var'),
  30: u('Wh'),
  31: u('VAh'),
  32: u('varh'),
  33: u('A'),
  34: u('C'),
  35: u('V'),
  44: u('Hz'),
  52: u('K'),
  56: u('%'),
  57: u('Ah'),
};

const NONE = u('');

export function dlmsUnit(code: number): UnitScale {
  return DLMS_UNITS[code] ?? NONE;
}

/**
 * Unit text as IEC 62056-21 and DSMR meters write it, matched without case
 * (meters write "kWh", "KWH", "kwh"). Prefixes that case alone tells apart
 * (mW / MW) are left out rather than guessed.
 */
const TEXT_UNITS: { [text: string]: UnitScale } = {
  Wh: u('Wh'),
  kWh: u('Wh', 3),
  kVArh: u('varh', 3),
  W: u('W'),
  kW: u('W', 3),
  kVAr: u('var', 3),
  V: u('V'),
  A: u('A'),
  Hz: u('Hz'),
  wh: u('Wh'),
  kwh: u('Wh', 3),
  varh: u('varh'),
  kvarh: u('varh', 3),
  vah: u('VAh'),
  kvah: u('VAh', 3),
  w: u('W'),
  kw: u('W', 3),
  var: u('var'),
  kvar: u('var', 3),
  va: u('VA'),
  kva: u('VA', 3),
  v: u('V'),
  kv: u('V', 3),
  a: u('A'),
  hz: u('Hz'),
  m3: u('m3'),
  l: u('m3', -3),
  gj: u('GJ'),
  mj: u('GJ', -3),
  s: u('s'),
  deg: u('deg'),
  '%': u('%'),
};

/** Maps unit text to its canonical form; unknown text is kept as sent. */
export function textUnit(text: string): UnitScale {
  // Meters nearly always write the unit as the standard does: try that spelling before folding case.
  return TEXT_UNITS[text] ?? TEXT_UNITS[text.toLowerCase()] ?? u(text);
}
