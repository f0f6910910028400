import type { Rng } from '../rng.js';

/**
 * UIDs under the `2.25` root (PS3.5 B.2): "2.25." then the decimal integer of a version-4 (random)
 * UUID (ITU-T X.667 / RFC 4122), no leading zeros, at most 44 characters of the 64 allowed (PS3.5 9.1).
 *
 * The 122 random bits come from a seeded {@link Rng}, so a seed gives the same UIDs on every run:
 * generated datasets are reproducible byte for byte. The flip side: two datasets made with the same
 * seed share their UIDs, so give different datasets different seeds.
 */
export class UidGenerator {
  constructor(private readonly rng: Rng) {}

  /** The next UID. */
  next(): string {
    let value = 0n;
    for (let word = 0; word < 4; word++) value = (value << 32n) | BigInt(Math.floor(this.rng.next() * 2 ** 32));
    // Version 4 in bits 76-79 and variant 10 in bits 62-63 of the 128-bit UUID (X.667 12.2, 12.1.3).
    value = (value & ~(0xfn << 76n)) | (0x4n << 76n);
    value = (value & ~(0x3n << 62n)) | (0x2n << 62n);
    return `2.25.${value}`;
  }
}
