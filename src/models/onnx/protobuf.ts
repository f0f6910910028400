/**
 * The few parts of the protocol buffers wire format (https://protobuf.dev/programming-guides/encoding/) that
 * writing an ONNX model needs: a message is a run of fields, each a key (field number << 3 | wire type) as a
 * varint followed by its value; integers are varints (wire type 0), and strings, bytes and nested messages are a
 * varint length then the bytes (wire type 2). Tensors' floats travel as bytes (TensorProto.raw_data).
 * Repeated fields are written one field per element, which every parser accepts (packed or not).
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

const utf8 = new TextEncoder();

/** One message being written: its fields in the order written. */
export class ProtoMessage {
  readonly #chunks: Uint8Array[] = [];
  #length = 0;

  /** An int32, int64 or enum field (a negative value takes ten bytes, as int64 is encoded in two's complement). */
  int(field: number, value: number): this {
    if (!Number.isSafeInteger(value)) throw new RangeError(`protobuf field ${field}: ${value} is not an integer`);
    this.#key(field, WIRE_VARINT);
    return this.#varint(BigInt.asUintN(64, BigInt(value)));
  }

  /** A bytes field. */
  bytes(field: number, value: Uint8Array): this {
    this.#key(field, WIRE_LENGTH_DELIMITED);
    this.#varint(BigInt(value.length));
    return this.#push(value);
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** A nested message field. */
  message(field: number, value: ProtoMessage): this {
    this.#key(field, WIRE_LENGTH_DELIMITED);
    this.#varint(BigInt(value.#length));
    for (const chunk of value.#chunks) this.#push(chunk);
    return this;
  }

  /** The encoded message. */
  encode(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  #key(field: number, wireType: number): void {
    this.#varint((BigInt(field) << 3n) | BigInt(wireType));
  }

  /** Base-128, least significant group first, the high bit of each byte saying another follows. */
  #varint(value: bigint): this {
    const bytes: number[] = [];
    let rest = value;
    do {
      const low = Number(rest & 0x7fn);
      rest >>= 7n;
      bytes.push(rest ? low | 0x80 : low);
    } while (rest);
    return this.#push(Uint8Array.from(bytes));
  }

  #push(chunk: Uint8Array): this {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    return this;
  }
}
