import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoMessage } from '../../../src/models/onnx/protobuf.js';

const hex = (message: ProtoMessage) => Buffer.from(message.encode()).toString('hex');

// The examples of https://protobuf.dev/programming-guides/encoding/.
test('a protobuf message encodes as the wire format documents: varints, strings and nested messages', () => {
  assert.equal(hex(new ProtoMessage().int(1, 150)), '089601');
  assert.equal(hex(new ProtoMessage().string(2, 'testing')), '120774657374696e67');
  assert.equal(hex(new ProtoMessage().message(3, new ProtoMessage().int(1, 150))), '1a03089601');
  assert.equal(hex(new ProtoMessage().int(1, -2)), '08feffffffffffffffff01', "int64 -2 in two's complement, ten bytes");
  assert.equal(hex(new ProtoMessage().int(16, 1).bytes(1, Uint8Array.of(0xff))), '800101' + '0a01ff', 'a field number above 15 takes a two-byte key');
  assert.throws(() => new ProtoMessage().int(1, 0.5), /0\.5 is not an integer/);
});
