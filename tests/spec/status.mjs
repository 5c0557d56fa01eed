// The status document's schema (status.schema.json beside this file), compiled
// with ajv in strict mode. Three shapes, by name:
//   document    GET /health, and the `health` of a pipe status frame
//   frame       the pipe's `status` frame
//   litellmctl  litellmctl status --json (the document with process facts)
//
//   import { statusErrors, assertStatus } from '../spec/status.mjs';
//   assertStatus('document', await (await fetch(`${base}/health`)).json());

import assert from 'node:assert/strict';
import { compileDefs, STRICT_AJV_OPTIONS } from './ajv-defs.mjs';

export const STATUS_SCHEMA_FILE = new URL('./status.schema.json', import.meta.url);
export const STATUS_SHAPES = ['document', 'frame', 'litellmctl'];

let compiled;

/** [] or ["/path message (schema …)", …]. */
export function statusErrors(shape, value) {
  compiled ??= compileDefs({
    file: STATUS_SCHEMA_FILE,
    id: 'status',
    names: STATUS_SHAPES,
    what: 'status shape',
    options: { ...STRICT_AJV_OPTIONS, strictTypes: false, strictRequired: false },
  });
  return compiled.validate(shape, value);
}

export function assertStatus(shape, value, what = shape) {
  const errors = statusErrors(shape, value);
  assert.deepEqual(errors, [], `${what} does not match status.schema.json#/$defs/${shape}: ${JSON.stringify(value)}`);
}
