/**
 * Mutations of a DICOM Part 10 file, each drawn from a seeded {@link Rng}: cut short, bytes flipped,
 * a VR or a length field broken (PS3.5 7.1.2), an identifying or pixel-describing attribute removed
 * or changed, the modality made something other than CT, the transfer syntax swapped, the "DICM"
 * prefix broken, a junk element added. Random bytes, some dressed as DICOM, PNG or JPEG, besides.
 */
import type { Rng } from '../../src/data/rng.js';
import { TAGS, editPart10, part10Layout, type ElementSpan } from './dicom-edit.js';

export const MUTATIONS = ['truncate', 'flip', 'vr', 'length', 'modality', 'drop', 'dims', 'bits', 'syntax', 'magic', 'junk-element', 'uid'] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** Attributes the 'drop' mutation removes: identity, and what the pixels are read by. */
const DROPPABLE = [
  ...['sopClassUid', 'sopInstanceUid', 'modality', 'patientId', 'studyInstanceUid', 'seriesInstanceUid'],
  ...['samplesPerPixel', 'rows', 'columns', 'bitsAllocated', 'bitsStored', 'pixelRepresentation', 'pixelData'],
] as const;

const VR_CODES = ['AE', 'AS', 'CS', 'DA', 'DS', 'IS', 'LO', 'OB', 'OW', 'SQ', 'UI', 'UL', 'UN', 'US', 'UT', 'XX', '\0\0'];
const TRANSFER_SYNTAXES = [
  '1.2.840.10008.1.2', // Implicit VR Little Endian
  '1.2.840.10008.1.2.2', // Explicit VR Big Endian
  '1.2.840.10008.1.2.1.99', // Deflated, though the data set is not
  '1.2.840.10008.1.2.4.50', // JPEG Baseline
  '1.2.840.10008.1.2.4.90', // JPEG 2000
  '1.2.840.10008.1.2.5', // RLE
  '1.2.3.4.5',
  '',
];

/** `bytes` mutated once; the name of what was done. Mutations that need a parsable file fall back to a byte flip. */
export function mutate(bytes: Uint8Array, mutation: Mutation, rng: Rng): { bytes: Uint8Array; detail: string } {
  try {
    return mutateOnce(bytes, mutation, rng);
  } catch {
    return mutateOnce(bytes, 'flip', rng);
  }
}

function mutateOnce(bytes: Uint8Array, mutation: Mutation, rng: Rng): { bytes: Uint8Array; detail: string } {
  switch (mutation) {
    case 'truncate': {
      // Half the cuts fall in the header, where a parser has the most to trip over.
      const at = rng.chance(0.5) ? rng.int(Math.min(bytes.length, 2048)) : rng.int(bytes.length);
      return { bytes: bytes.slice(0, at), detail: `truncated to ${at} of ${bytes.length} bytes` };
    }
    case 'flip': {
      const out = bytes.slice();
      const count = out.length === 0 ? 0 : 1 + rng.int(16);
      const headerEnd = Math.min(out.length, 4096);
      for (let i = 0; i < count; i++) {
        const at = headerEnd > 128 && rng.chance(0.7) ? 128 + rng.int(headerEnd - 128) : rng.int(out.length);
        out[at] ^= 1 + rng.int(255);
      }
      return { bytes: out, detail: `${count} bytes flipped` };
    }
    case 'vr': {
      const span = pickSpan(bytes, rng);
      const out = bytes.slice();
      const vr = VR_CODES[rng.int(VR_CODES.length)];
      out[span.start + 4] = vr.charCodeAt(0);
      out[span.start + 5] = vr.charCodeAt(1);
      return { bytes: out, detail: `VR of ${tagText(span.tag)} made ${JSON.stringify(vr)}` };
    }
    case 'length': {
      const span = pickSpan(bytes, rng);
      const out = bytes.slice();
      const view = new DataView(out.buffer, out.byteOffset, out.length);
      const actual = span.end - span.valueStart;
      const long = span.valueStart - span.start === 12;
      const lengths = [0, 1, actual + 1, Math.max(0, actual - 1), actual * 2 + 2, long ? 0xfffffffe : 0xfffe, long ? 0xffffffff : 0xffff];
      const length = lengths[rng.int(lengths.length)];
      if (long) view.setUint32(span.start + 8, length >>> 0, true);
      else view.setUint16(span.start + 6, length & 0xffff, true);
      return { bytes: out, detail: `length of ${tagText(span.tag)} made ${length} (was ${actual})` };
    }
    case 'modality': {
      const modality = ['MR', 'OT', 'SR', 'PT', '', 'ct', 'CT\\MR'][rng.int(7)];
      return { bytes: editPart10(bytes, { set: [[TAGS.modality, 'CS', modality]] }), detail: `Modality made ${JSON.stringify(modality)}` };
    }
    case 'drop': {
      const name = DROPPABLE[rng.int(DROPPABLE.length)];
      return { bytes: editPart10(bytes, { set: [[TAGS[name], 'UN', undefined]] }), detail: `${name} removed` };
    }
    case 'dims': {
      const values = [0, 1, 3, 65535];
      const [rows, columns] = [values[rng.int(values.length)], values[rng.int(values.length)]];
      return {
        bytes: editPart10(bytes, {
          set: [
            [TAGS.rows, 'US', [rows]],
            [TAGS.columns, 'US', [columns]],
          ],
        }),
        detail: `Rows x Columns made ${rows}x${columns}`,
      };
    }
    case 'bits': {
      const choices: [number, number, string][] = [
        [TAGS.bitsAllocated, 0, 'BitsAllocated'],
        [TAGS.bitsAllocated, 1, 'BitsAllocated'],
        [TAGS.bitsAllocated, 12, 'BitsAllocated'],
        [TAGS.bitsAllocated, 32, 'BitsAllocated'],
        [TAGS.bitsStored, 0, 'BitsStored'],
        [TAGS.bitsStored, 17, 'BitsStored'],
        [TAGS.samplesPerPixel, 0, 'SamplesPerPixel'],
        [TAGS.samplesPerPixel, 3, 'SamplesPerPixel'],
        [TAGS.pixelRepresentation, 2, 'PixelRepresentation'],
      ];
      const [tag, value, name] = choices[rng.int(choices.length)];
      return { bytes: editPart10(bytes, { set: [[tag, 'US', [value]]] }), detail: `${name} made ${value}` };
    }
    case 'syntax': {
      const uid = TRANSFER_SYNTAXES[rng.int(TRANSFER_SYNTAXES.length)];
      return { bytes: editPart10(bytes, { transferSyntaxUid: uid }), detail: `Transfer Syntax UID made ${JSON.stringify(uid)}` };
    }
    case 'magic': {
      const out = bytes.slice();
      out[128 + rng.int(4)] ^= 0x20;
      return { bytes: out, detail: 'DICM prefix broken' };
    }
    case 'junk-element': {
      const span = pickSpan(bytes, rng);
      const junk = randomBytes(rng, 8 + rng.int(4096));
      const out = new Uint8Array(bytes.length + junk.length);
      out.set(bytes.subarray(0, span.start));
      out.set(junk, span.start);
      out.set(bytes.subarray(span.start), span.start + junk.length);
      return { bytes: out, detail: `${junk.length} random bytes before ${tagText(span.tag)}` };
    }
    case 'uid': {
      const tags = [TAGS.sopInstanceUid, TAGS.studyInstanceUid, TAGS.seriesInstanceUid, TAGS.sopClassUid];
      const uids = ['', '1.2.3', `2.25.${'9'.repeat(80)}`, 'not a uid', '1..2', '2.25.1\\2.25.2'];
      const [tag, uid] = [tags[rng.int(tags.length)], uids[rng.int(uids.length)]];
      return { bytes: editPart10(bytes, { set: [[tag, 'UI', uid]] }), detail: `${tagText(tag)} made ${JSON.stringify(uid.slice(0, 24))}` };
    }
  }
}

/** A top-level element (not the File Meta Information) of the file, picked at random. */
function pickSpan(bytes: Uint8Array, rng: Rng): ElementSpan {
  const { elements } = part10Layout(bytes);
  if (elements.length === 0) throw new Error('no data elements');
  return elements[rng.int(elements.length)];
}

/** Random bytes of a log-uniform length up to `maxBytes`; some start like DICOM, PNG or JPEG. */
export function randomFile(rng: Rng, maxBytes: number): { bytes: Uint8Array; detail: string } {
  const length = Math.floor(Math.exp(rng.next() * Math.log(maxBytes + 1))) - 1;
  const bytes = randomBytes(rng, length);
  const dressing = rng.int(4);
  if (dressing === 1 && length > 132) bytes.set([0x44, 0x49, 0x43, 0x4d], 128);
  if (dressing === 2 && length > 8) bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (dressing === 3 && length > 3) bytes.set([0xff, 0xd8, 0xff]);
  return { bytes, detail: `${length} random bytes${['', ' with DICM at 128', ' with a PNG signature', ' with a JPEG SOI marker'][dressing]}` };
}

export function randomBytes(rng: Rng, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = rng.int(256);
  return bytes;
}

function tagText(tag: number): string {
  const hex = tag.toString(16).toUpperCase().padStart(8, '0');
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}
