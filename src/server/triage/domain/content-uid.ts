/** DICOM UIDs for files that carry none (PNG/JPEG uploads), derived from their content. */
import { createHash } from 'node:crypto';

/**
 * A UID under the `2.25` root (PS3.5 B.2): the decimal integer of a name-based UUID (RFC 9562
 * version 8) made from SHA-256 of `bytes` and `role` ('study', 'series', 'instance'). The same bytes
 * always give the same UIDs, so a photo sent twice is recognised as the same instance.
 */
export function contentUid(bytes: Uint8Array, role: string): string {
  const digest = createHash('sha256').update(role).update('\0').update(bytes).digest();
  let value = BigInt(`0x${digest.subarray(0, 16).toString('hex')}`);
  // Version 8 in bits 76-79 and variant 10 in bits 62-63 (RFC 9562 5.8, 4.1).
  value = (value & ~(0xfn << 76n)) | (0x8n << 76n);
  value = (value & ~(0x3n << 62n)) | (0x2n << 62n);
  return `2.25.${value}`;
}
