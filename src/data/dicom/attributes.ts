import type { DataSet } from 'dicom-parser';
import { DicomError } from './errors.js';

/**
 * Typed reads of one attribute from a dicom-parser DataSet. Tags are dicom-parser keys
 * (`xGGGGEEEE`); `name` is the PS3.6 keyword used in error messages.
 */
export class AttributeReader {
  constructor(
    private readonly dataSet: DataSet,
    private readonly source: string,
  ) {}

  /** Whether the attribute is present, even when empty. */
  has(tag: string): boolean {
    return tag in this.dataSet.elements;
  }

  /** A string attribute (UI, CS, LO, SH...) without padding; undefined when absent or empty. */
  string(tag: string): string | undefined {
    // UIDs are padded with NUL (PS3.5 9.1), the other string VRs with spaces (PS3.5 6.2).
    const value = this.dataSet.string(tag)?.replace(/\0+$/, '').trim();
    return value ? value : undefined;
  }

  requiredString(tag: string, name: string): string {
    return this.string(tag) ?? this.missing(tag, name);
  }

  /** A US attribute. */
  uint16(tag: string): number | undefined {
    return this.dataSet.elements[tag]?.length ? this.dataSet.uint16(tag) : undefined;
  }

  requiredUint16(tag: string, name: string): number {
    return this.uint16(tag) ?? this.missing(tag, name);
  }

  /**
   * A US-or-SS attribute such as Pixel Padding Value, whose VR follows Pixel Representation
   * (PS3.6 note for "US or SS"); in Implicit VR only `signed` tells them apart.
   */
  uint16OrInt16(tag: string, signed: boolean): number | undefined {
    if (!this.dataSet.elements[tag]?.length) return undefined;
    return signed ? this.dataSet.int16(tag) : this.dataSet.uint16(tag);
  }

  /** The values of a multi-valued DS or IS attribute, in order; empty when absent. */
  numbers(tag: string, name: string): number[] {
    const count = this.dataSet.numStringValues(tag) ?? 0;
    const values: number[] = [];
    for (let index = 0; index < count; index++) {
      const text = this.dataSet.string(tag, index);
      if (text === undefined || text.trim() === '') continue;
      const value = Number(text);
      if (!Number.isFinite(value)) throw new DicomError(this.source, `${name} ${this.tagText(tag)} has a non-numeric value "${text}"`);
      values.push(value);
    }
    return values;
  }

  /** A single DS or IS value; undefined when absent. */
  number(tag: string, name: string): number | undefined {
    return this.numbers(tag, name)[0];
  }

  /** A DS attribute that must hold exactly `count` values when present (e.g. 3 for a position). */
  vector(tag: string, name: string, count: number): number[] | undefined {
    const values = this.numbers(tag, name);
    if (values.length === 0) return undefined;
    if (values.length !== count) throw new DicomError(this.source, `${name} ${this.tagText(tag)} has ${values.length} values, expected ${count}`);
    return values;
  }

  private missing(tag: string, name: string): never {
    throw new DicomError(this.source, `missing ${name} ${this.tagText(tag)}`);
  }

  private tagText(tag: string): string {
    return `(${tag.slice(1, 5).toUpperCase()},${tag.slice(5).toUpperCase()})`;
  }
}
