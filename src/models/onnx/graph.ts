/**
 * An ONNX model being built: nodes in execution order, weights as initializers, and the ModelProto that holds
 * them, written with protobuf.ts. Field numbers are those of onnx/onnx.proto (ONNX 1.8, IR version 7, the IR
 * of opset 13), cited beside each write.
 */
import { ProtoMessage } from './protobuf.js';

/** The operator set the graph's nodes are written against (ONNX 1.8); ONNX Runtime, onnxruntime-web and TensorRT read it. */
export const ONNX_OPSET = 13;
/** IR version 7: the one that came with opset 13. */
const IR_VERSION = 7;

/** TensorProto.DataType values. */
const FLOAT = 1;
const INT64 = 7;
/** AttributeProto.AttributeType values. */
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

/** A node attribute: an integer or a list of integers (all the operators written here need). */
export type OnnxAttribute = number | readonly number[];

/** A float32 input or output: its name and shape, a string for a dimension named at run time (e.g. 'batch'). */
export interface OnnxValue {
  name: string;
  shape: readonly (number | string)[];
}

export class OnnxGraph {
  readonly #nodes: ProtoMessage[] = [];
  readonly #initializers: ProtoMessage[] = [];
  readonly #names = new Set<string>();

  /** `name` as given, or with a number after it when taken, so that every value has a name of its own. */
  #uniqueName(name: string): string {
    let unique = name;
    for (let n = 1; this.#names.has(unique); n++) unique = `${name}_${n}`;
    this.#names.add(unique);
    return unique;
  }

  /** A constant tensor (little-endian raw_data); returns its name. */
  initializer(name: string, shape: readonly number[], data: Float32Array | BigInt64Array): string {
    const unique = this.#uniqueName(name);
    const raw = new Uint8Array(data.length * data.BYTES_PER_ELEMENT);
    const view = new DataView(raw.buffer);
    if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(4 * i, v, true));
    else data.forEach((v, i) => view.setBigInt64(8 * i, v, true));
    const tensor = new ProtoMessage();
    for (const dim of shape) tensor.int(1, dim); // TensorProto.dims
    tensor
      .int(2, data instanceof Float32Array ? FLOAT : INT64) // TensorProto.data_type
      .string(8, unique) // TensorProto.name
      .bytes(9, raw); // TensorProto.raw_data
    this.#initializers.push(tensor);
    return unique;
  }

  /** Appends an `opType` node of `inputs` ('' for an omitted optional input); returns the name of its output (`output`, or one made up). */
  node(opType: string, inputs: readonly string[], attributes: Record<string, OnnxAttribute> = {}, output?: string): string {
    const result = output ?? this.#uniqueName(opType.toLowerCase());
    if (output) this.#names.add(output);
    const node = new ProtoMessage();
    for (const input of inputs) node.string(1, input); // NodeProto.input
    node.string(2, result).string(4, opType); // NodeProto.output, NodeProto.op_type
    for (const [name, value] of Object.entries(attributes)) {
      const attribute = new ProtoMessage().string(1, name); // AttributeProto.name
      if (typeof value === 'number')
        attribute.int(3, value).int(20, ATTRIBUTE_INT); // AttributeProto.i, AttributeProto.type
      else {
        for (const v of value) attribute.int(8, v); // AttributeProto.ints
        attribute.int(20, ATTRIBUTE_INTS);
      }
      node.message(5, attribute); // NodeProto.attribute
    }
    this.#nodes.push(node);
    return result;
  }

  /** The ModelProto of this graph with its `inputs`, `outputs` and `metadata` (ModelProto.metadata_props). */
  encode({
    inputs,
    outputs,
    metadata,
    docString,
  }: {
    inputs: OnnxValue[];
    outputs: OnnxValue[];
    metadata: Record<string, string>;
    docString: string;
  }): Uint8Array {
    const graph = new ProtoMessage();
    for (const node of this.#nodes) graph.message(1, node); // GraphProto.node
    graph.string(2, 'findstroke'); // GraphProto.name
    for (const tensor of this.#initializers) graph.message(5, tensor); // GraphProto.initializer
    for (const value of inputs) graph.message(11, valueInfo(value)); // GraphProto.input
    for (const value of outputs) graph.message(12, valueInfo(value)); // GraphProto.output
    const model = new ProtoMessage()
      .int(1, IR_VERSION) // ModelProto.ir_version
      .string(2, 'findstroke') // ModelProto.producer_name
      .string(6, docString) // ModelProto.doc_string
      .message(7, graph) // ModelProto.graph
      .message(8, new ProtoMessage().string(1, '').int(2, ONNX_OPSET)); // ModelProto.opset_import: OperatorSetIdProto.domain ('' = ai.onnx), .version
    for (const [key, value] of Object.entries(metadata)) model.message(14, new ProtoMessage().string(1, key).string(2, value)); // StringStringEntryProto
    return model.encode();
  }
}

/** ValueInfoProto (name 1, type 2) of a float tensor: TypeProto.tensor_type 1 { elem_type 1, shape 2 { dim 1 { dim_value 1 | dim_param 2 } } }. */
function valueInfo({ name, shape }: OnnxValue): ProtoMessage {
  const dims = new ProtoMessage();
  for (const dim of shape) dims.message(1, typeof dim === 'number' ? new ProtoMessage().int(1, dim) : new ProtoMessage().string(2, dim));
  const tensorType = new ProtoMessage().int(1, FLOAT).message(2, dims);
  return new ProtoMessage().string(1, name).message(2, new ProtoMessage().message(1, tensorType));
}
