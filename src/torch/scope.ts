/**
 * Deterministic memory management for tensors. Every tensor created inside `tidy(fn)` is disposed when
 * `fn` returns, except the tensors it returns (which move to the enclosing scope) and those passed to
 * `keep`. Outside any scope a tensor lives until `dispose()` or, as a backstop, garbage collection.
 */

/** Anything that owns native memory and can release it now. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Set<Disposable>[] = [];

/** Called by every new tensor: the innermost open scope takes ownership of it. */
export function track<T extends Disposable>(item: T): T {
  scopes[scopes.length - 1]?.add(item);
  return item;
}

/** Takes `item` out of every open scope so that it outlives them; the caller now owns it. */
export function keep<T extends Disposable>(item: T): T {
  for (const scope of scopes) scope.delete(item);
  return item;
}

/**
 * Disposes `item` now if an open scope owns it, that is if it would be disposed when that scope closes anyway:
 * for an intermediate result that nothing reads any more, as PyTorch frees a tensor when its last reference goes.
 * A tensor that was kept, returned out of its scope or created outside any scope is left alone.
 */
export function release(item: Disposable): void {
  for (const scope of scopes)
    if (scope.delete(item)) {
      item.dispose();
      return;
    }
}

function collect(value: unknown, found: Set<Disposable>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if ('dispose' in value && 'isDisposed' in value) {
    found.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, found, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collect(v, found, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, found, depth + 1);
}

/**
 * Runs `fn` in a new scope and disposes every tensor it created but did not return. Returned tensors
 * (directly, or inside arrays, Maps and plain objects) are handed to the enclosing scope.
 * `fn` must be synchronous: an async function would let the scope close before its work is done.
 */
export function tidy<R>(fn: () => R): R {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: R;
  try {
    result = fn();
  } catch (error) {
    scopes.pop();
    for (const item of scope) item.dispose();
    throw error;
  }
  scopes.pop();
  if (result instanceof Promise) throw new Error('tidy() needs a synchronous function; got a Promise');
  const survivors = new Set<Disposable>();
  collect(result, survivors);
  for (const item of scope) if (!survivors.has(item)) item.dispose();
  const parent = scopes[scopes.length - 1];
  if (parent) for (const item of survivors) if (scope.has(item)) parent.add(item);
  return result;
}

/** Disposes every tensor found in `value` (a tensor, or arrays/Maps/plain objects of them). */
export function dispose(value: unknown): void {
  const found = new Set<Disposable>();
  collect(value, found);
  for (const item of found) item.dispose();
}
