/**
 * A check of the DIMSE command sets a peer sends, before dcmjs-dimse parses them: it parses a command
 * set on the event loop, and random bytes there (an element length of gigabytes, say) have held the
 * whole service for tens of seconds. A command set is small and simple (PS3.7 6.3.1, E.1): Implicit VR
 * Little Endian elements of group 0000 only, each within the bytes sent.
 */

const P_DATA_TF = 0x04;
/** Bytes of the PDU header (type, reserved, length: PS3.8 9.3.1) and of a PDV item's length, context ID and control header (9.3.5.1, E.2). */
const PDU_HEADER = 6;
const PDV_HEADER = 6;
/** A command set holds a dozen short elements; anything this long is not one. */
const MAX_COMMAND_SET_BYTES = 64 * 1024;

/** Collects each presentation context's command fragments (PS3.8 E.2) and finds a malformed command set. */
export class CommandSetCheck {
  readonly #fragments = new Map<number, Uint8Array[]>();

  /** Why `pdu` (a whole PDU, header included) carries a malformed command set; undefined when it does not. */
  fault(pdu: Uint8Array): string | undefined {
    if (pdu[0] !== P_DATA_TF) return undefined;
    const view = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
    for (let offset = PDU_HEADER; offset + PDV_HEADER <= pdu.length;) {
      const itemLength = view.getUint32(offset);
      const end = offset + 4 + itemLength;
      if (itemLength < 2 || end > pdu.length) return `a PDV item of ${itemLength} bytes overruns its ${pdu.length}-byte P-DATA-TF PDU`;
      const context = pdu[offset + 4];
      const control = pdu[offset + 5];
      offset = end;
      if ((control & 0x01) === 0) continue; // a data set fragment: parsed by findstroke's own reader, bounded
      const fragments = this.#fragments.get(context) ?? [];
      fragments.push(pdu.subarray(offset - itemLength + 2, offset));
      const length = fragments.reduce((sum, f) => sum + f.length, 0);
      if (length > MAX_COMMAND_SET_BYTES) return `a command set of over ${MAX_COMMAND_SET_BYTES} bytes`;
      if ((control & 0x02) === 0) {
        this.#fragments.set(context, fragments);
        continue;
      }
      this.#fragments.delete(context);
      const fault = commandSetFault(Buffer.concat(fragments));
      if (fault) return fault;
    }
    return undefined;
  }
}

/** Why `bytes` are not a command set: elements of group 0000, Implicit VR Little Endian, each within the bytes (PS3.7 E.1). */
function commandSetFault(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) return `a command set of ${bytes.length} bytes holds no element`;
  for (let offset = 0; offset < bytes.length;) {
    if (offset + 8 > bytes.length) return `a command set ends inside an element header at byte ${offset}`;
    const group = view.getUint16(offset, true);
    const length = view.getUint32(offset + 4, true);
    if (group !== 0x0000) return `a command set holds an element of group ${group.toString(16).padStart(4, '0')}, not 0000 (PS3.7 E.1)`;
    if (offset + 8 + length > bytes.length) return `a command set element of ${length} bytes overruns the ${bytes.length}-byte command set`;
    offset += 8 + length;
  }
  return undefined;
}
