/** The classes findstroke's phantoms come in: the folder names of a phantom dataset. */
export const PHANTOM_CLASSES = ['normalBrain', 'ischaemicStroke', 'haemorrhagicStroke'] as const;

/** One of {@link PHANTOM_CLASSES}. */
export type PhantomClass = (typeof PHANTOM_CLASSES)[number];

/** `name` as a {@link PhantomClass}; an Error naming `argument` and the known classes otherwise. */
export function phantomClass(name: string, argument: string): PhantomClass {
  if (!(PHANTOM_CLASSES as readonly string[]).includes(name)) {
    throw new Error(`${argument}: unknown class "${name}"; phantoms come in ${PHANTOM_CLASSES.join(', ')}`);
  }
  return name as PhantomClass;
}
