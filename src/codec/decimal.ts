// Exact decimal scaling: raw * 10^exp. Dividing by an exact power of ten gives
// the correctly rounded double (2345 / 10 === 234.5), where multiplying by
// 0.1 would not.

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];

export function scale(raw: number, exp: number): number {
  if (exp === 0) return raw;
  if (exp > 0) return exp < POW10.length ? raw * POW10[exp] : raw * 10 ** exp;
  return -exp < POW10.length ? raw / POW10[-exp] : raw / 10 ** -exp;
}

/**
 * Parses a meter's decimal text ("000006.695", "-12.5", "0012") into
 * mantissa/exponent form and scales it exactly. Returns NaN for anything else.
 */
export function parseDecimal(text: string, exp: number): number {
  let i = 0;
  let negative = false;
  const n = text.length;
  if (n === 0) return NaN;
  const first = text.charCodeAt(0);
  if (first === 45 || first === 43) {
    negative = first === 45;
    i = 1;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = -1;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (fraction >= 0) fraction++;
    } else if (c === 46 && fraction < 0) fraction = 0;
    else return NaN;
  }
  if (digits === 0) return NaN;
  const v = scale(mantissa, exp - (fraction > 0 ? fraction : 0));
  return negative ? -v : v;
}
