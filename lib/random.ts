/**
 * Seeded pseudo-random numbers whose whole state is four 32-bit words, so a checkpoint can store it
 * and a resumed run continues the same sequence. The generator is xoshiro128** (Blackman and Vigna);
 * the seed is expanded with splitmix32 so that nearby seeds give unrelated streams.
 */
export type RandomState = readonly [number, number, number, number];

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(state: RandomState) {
    [this.s0, this.s1, this.s2, this.s3] = state;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) {
      throw new Error('Random state must not be all zeros');
    }
  }

  /** Creates a generator from an integer seed; equal seeds give equal sequences. */
  static fromSeed(seed: number): Random {
    const next = splitmix32(seed);
    return new Random([next(), next(), next(), next()]);
  }

  /** Restores a generator from a state returned by `state()`. */
  static fromState(state: RandomState): Random {
    return new Random(state);
  }

  state(): RandomState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Returns a uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Returns a float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Returns an integer in [0, n). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0)
      throw new RangeError(`nextInt needs a positive integer bound, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Returns a standard normal sample (Box-Muller transform). */
  nextGaussian(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
