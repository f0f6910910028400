/** Throws an Error naming `name` unless `value` is an integer in `low..high`. */
export function requireInteger(name: string, value: number, low: number, high: number): void {
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new Error(`${name} must be an integer from ${low} to ${high}, got ${value}`);
  }
}
