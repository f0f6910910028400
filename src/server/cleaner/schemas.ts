/** JSON schemas of the cleaner's API: fastify rejects a request that does not match with 400 and the reason. */
import { SIDE_FILTERS } from '../../clean/index.js';

export const listingQuery = {
  type: 'object',
  required: ['class'],
  additionalProperties: false,
  properties: {
    class: { type: 'string', minLength: 1 },
    side: { type: 'string', enum: [...SIDE_FILTERS], default: 'all' },
    /** At most this many images (or patients), the highest losses (fastai's cleaner shows the top `max_n`). */
    limit: { type: 'integer', minimum: 1 },
  },
} as const;

export const imageParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1 } },
} as const;

const decision = {
  anyOf: [
    { type: 'string', enum: ['keep', 'delete'] },
    { type: 'object', required: ['relabel'], additionalProperties: false, properties: { relabel: { type: 'string', minLength: 1 } } },
  ],
} as const;

export const applyBody = {
  type: 'object',
  required: ['decisions'],
  additionalProperties: false,
  properties: { decisions: { type: 'object', additionalProperties: decision } },
} as const;

/** Undo takes no parameters, but the body must still be a JSON object: a cross-site form cannot send one. */
export const undoBody = { type: 'object', additionalProperties: false } as const;
