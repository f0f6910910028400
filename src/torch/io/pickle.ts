/**
 * A minimal unpickler for what `torch.save` writes (pickle protocol 2, plus the protocol-4 framing
 * opcodes). It only builds plain values: globals and persistent ids are resolved by the caller's
 * hooks, so nothing in a file can make us run code.
 *
 * Python values map to: None → `null`, bool → `boolean`, int → `number` (`bigint` beyond 2^53),
 * float → `number`, str → `string`, bytes → `Uint8Array`, list and tuple → array, dict → `Map`.
 */

/** A Python callable as REDUCE and NEWOBJ see it: called with the positional arguments. */
export type PyCallable = (args: unknown[]) => unknown;

/**
 * An object of a class the caller chose not to interpret (e.g. an `argparse.Namespace` riding along
 * in a training checkpoint). Calling it yields another opaque object; state and items given to it
 * are dropped.
 */
export class OpaqueObject {
  constructor(readonly typeName: string) {}
}

/** How the unpickler resolves what it cannot build itself. */
export interface UnpickleHooks {
  /** Resolves the global `module.name` to a value, a {@link PyCallable} or an {@link OpaqueObject}; throws to refuse it. */
  findGlobal(module: string, name: string): unknown;
  /** Resolves a BINPERSID persistent id (torch's storage references). */
  persistentLoad(pid: unknown): unknown;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Runs the pickle program in `bytes` and returns the object it builds; errors name `source`. */
export function unpickle(input: Uint8Array, hooks: UnpickleHooks, source: string): unknown {
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength); // Buffer#slice would not copy
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const fail: (reason: string) => never = (reason) => {
    throw new Error(`${source}: at pickle byte ${pos}: ${reason}`);
  };
  const need = (n: number): number => {
    if (pos + n > bytes.byteLength) fail('unexpected end of data');
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => view.getUint8(need(1));
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const take = (n: number) => bytes.subarray(need(n), pos);
  const text = (n: number) => {
    const raw = take(n);
    try {
      return utf8.decode(raw);
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated line');
    return text(end - pos + 1).slice(0, -1);
  };
  const pop = () => (stack.length > 0 ? stack.pop() : fail('stack underflow'));
  const top = () => (stack.length > 0 ? stack[stack.length - 1] : fail('stack underflow'));
  const popMark = () => {
    const items = stack;
    stack = metastack.pop() ?? fail('no MARK on the stack');
    return items;
  };
  const memoGet = (index: number) => (memo.has(index) ? memo.get(index) : fail(`memo entry ${index} is not set`));
  const call = (callable: unknown, args: unknown) => {
    if (!Array.isArray(args)) fail('call arguments are not a tuple');
    if (callable instanceof OpaqueObject) return new OpaqueObject(callable.typeName);
    if (typeof callable !== 'function') fail('called object is not callable');
    return (callable as PyCallable)(args);
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (items.length % 2 !== 0) fail('odd number of dict items');
    if (target instanceof OpaqueObject) return;
    if (!(target instanceof Map)) fail('SETITEM(S) on something that is not a dict');
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  };
  const append = (target: unknown, items: unknown[]) => {
    if (target instanceof OpaqueObject) return;
    if (!Array.isArray(target)) fail('APPEND(S) on something that is not a list');
    for (const item of items) target.push(item); // no spread: huge lists would overflow the call stack
  };

  for (;;) {
    const opcode = u8();
    switch (opcode) {
      case 0x80:
        u8();
        break; // PROTO: the version byte needs no action
      case 0x95:
        need(8);
        break; // FRAME: framing is only a read-ahead hint
      case 0x2e:
        return pop(); // STOP
      case 0x28:
        metastack.push(stack);
        stack = [];
        break; // MARK
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x74: {
        const items = popMark();
        stack.push(items);
        break;
      } // TUPLE: popMark swaps `stack`, so pop first
      case 0x85:
        stack.push([pop()]);
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        stack.push([pop(), b]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      } // TUPLE3
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x4a:
        stack.push(view.getInt32(need(4), true));
        break; // BININT
      case 0x8a:
        stack.push(decodeLong(take(u8())));
        break; // LONG1
      case 0x47:
        stack.push(view.getFloat64(need(8), false));
        break; // BINFLOAT is big-endian
      case 0x58:
        stack.push(text(u32()));
        break; // BINUNICODE
      case 0x8c:
        stack.push(text(u8()));
        break; // SHORT_BINUNICODE
      case 0x43:
        stack.push(take(u8()).slice());
        break; // SHORT_BINBYTES
      case 0x42:
        stack.push(take(u32()).slice());
        break; // BINBYTES
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
        stack.push(memoGet(u8()));
        break; // BINGET
      case 0x6a:
        stack.push(memoGet(u32()));
        break; // LONG_BINGET
      case 0x63: {
        const module = line();
        stack.push(hooks.findGlobal(module, line()));
        break;
      } // GLOBAL
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(hooks.findGlobal(module, name));
        break;
      }
      case 0x52: // REDUCE
      case 0x81: {
        const args = pop();
        stack.push(call(pop(), args));
        break;
      } // NEWOBJ: cls(*args) is all we model
      case 0x62: {
        // BUILD
        pop(); // the state: dict attributes (OrderedDict's `_metadata`) and opaque objects' state are not kept
        const target = top();
        if (!(target instanceof Map || target instanceof OpaqueObject)) fail('BUILD on an object that takes no state');
        break;
      }
      case 0x51:
        stack.push(hooks.persistentLoad(pop()));
        break; // BINPERSID
      case 0x73: {
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      } // SETITEM
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      } // SETITEMS
      case 0x61: {
        const item = pop();
        append(top(), [item]);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        append(top(), items);
        break;
      } // APPENDS
      default:
        pos -= 1;
        fail(`opcode 0x${opcode.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(opcode))}) is not supported`);
    }
  }
}

/** A LONG1 payload: little-endian two's complement, as a number when it is exactly representable. */
function decodeLong(le: Uint8Array): number | bigint {
  let value = 0n;
  for (let i = le.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(le[i]);
  if (le.length > 0 && le[le.length - 1] >= 0x80) value -= 1n << BigInt(8 * le.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
