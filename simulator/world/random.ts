// Seeded randomness: every random choice in the simulator comes from one of
// these, so a run is repeatable for a given seed.

export type Random = () => number;

/** mulberry32: small, fast, good enough for simulation. */
export function prng(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh generator derived from a seed and a name, so that adding one consumer does not shift another's numbers. */
export function derive(seed: number, name: string): Random {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x9e3779b1) >>> 0;
  return prng(h);
}
