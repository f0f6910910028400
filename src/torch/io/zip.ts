/**
 * A minimal zip reader for archives whose entries are stored uncompressed, as `torch.save` writes
 * them. Entries are located through the central directory (torch.save streams its entries, so the
 * local headers carry no sizes), with zip64 records for archives past 4 GiB.
 */

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const ZIP64_EXTRA_ID = 0x0001;
const SATURATED_32 = 0xffffffff;

/** True when `bytes` starts like a zip archive (a local file header). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === LOCAL_SIGNATURE;
}

/**
 * The entries of a zip archive, by name, as views into `bytes`.
 * Throws, naming `source`, on a damaged archive and on compressed or encrypted entries.
 */
export function readStoredZip(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail: (reason: string) => never = (reason) => {
    throw new Error(`${source}: ${reason}`);
  };
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  const inBounds = (at: number, length: number) => at >= 0 && at + length <= bytes.byteLength;

  const eocd = findEndOfCentralDirectory(view);
  if (eocd < 0) fail('not a zip archive or truncated (no end-of-central-directory record)');
  let entryCount = u16(eocd + 10);
  let directoryOffset = u32(eocd + 16);
  const locator = eocd - 20;
  if (locator >= 0 && u32(locator) === ZIP64_LOCATOR_SIGNATURE) {
    const record = u64(locator + 8);
    if (!inBounds(record, 56) || u32(record) !== ZIP64_EOCD_SIGNATURE) fail('zip64 end-of-central-directory record is missing');
    entryCount = u64(record + 32);
    directoryOffset = u64(record + 48);
  }

  const entries = new Map<string, Uint8Array>();
  let at = directoryOffset;
  for (let i = 0; i < entryCount; i++) {
    if (!inBounds(at, 46) || u32(at) !== CENTRAL_SIGNATURE) fail(`central directory entry ${i} is damaged or truncated`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    if (!inBounds(at + 46, nameLength + extraLength)) fail(`central directory entry ${i} is truncated`);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    if (flags & 0x1) fail(`zip entry ${name} is encrypted`);
    if (method !== 0) fail(`zip entry ${name} is compressed (method ${method}); only stored (uncompressed) entries are supported`);

    // Sizes and offset saturated at 0xffffffff live, in this order, in the zip64 extra field.
    const wide = [u32(at + 24), u32(at + 20), u32(at + 42)];
    const saturated = wide.filter((value) => value === SATURATED_32).length;
    if (saturated > 0) {
      const extra = findExtraField(view, at + 46 + nameLength, extraLength, ZIP64_EXTRA_ID);
      if (!extra || extra.size < 8 * saturated) fail(`zip entry ${name} lacks its zip64 sizes`);
      let field = extra.offset;
      for (let k = 0; k < wide.length; k++) {
        if (wide[k] === SATURATED_32) {
          wide[k] = u64(field);
          field += 8;
        }
      }
    }
    const [size, compressedSize, localOffset] = wide;
    if (size !== compressedSize) fail(`zip entry ${name} has differing stored and original sizes`);

    if (!inBounds(localOffset, 30) || u32(localOffset) !== LOCAL_SIGNATURE) fail(`zip entry ${name}: local header is damaged`);
    const dataStart = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28);
    if (!inBounds(dataStart, size)) fail(`zip entry ${name} runs past the end of the file (truncated?)`);
    entries.set(name, bytes.subarray(dataStart, dataStart + size));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Offset of the end-of-central-directory record, searched backwards past a possible comment; -1 if none. */
function findEndOfCentralDirectory(view: DataView): number {
  const last = view.byteLength - EOCD_SIZE;
  for (let at = last; at >= 0 && at >= last - MAX_COMMENT; at--) {
    if (view.getUint32(at, true) === EOCD_SIGNATURE) return at;
  }
  return -1;
}

/** Where the payload of extra field `id` lies within `[start, start + length)`, if present. */
function findExtraField(view: DataView, start: number, length: number, id: number): { offset: number; size: number } | undefined {
  const end = start + length;
  for (let at = start; at + 4 <= end;) {
    const size = view.getUint16(at + 2, true);
    if (at + 4 + size > end) return undefined;
    if (view.getUint16(at, true) === id) return { offset: at + 4, size };
    at += 4 + size;
  }
  return undefined;
}
