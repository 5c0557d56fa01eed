// The status document's schema (status.schema.json beside this file), compiled
// with ajv in strict mode. Three shapes, by name:
//   document    GET /health, and the `health` of a pipe status frame
//   frame       the pipe's `status` frame
//   litellmctl  litellmctl status --json (the document with process facts)
//
//   import { statusErrors, assertStatus } from '../spec/status.mjs';
//   assertStatus('document', await (await fetch(`${base}/health`)).json());

import fs from 'node:fs';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020.js';

export const STATUS_SCHEMA_FILE = new URL('./status.schema.json', import.meta.url);
export const STATUS_SHAPES = ['document', 'frame', 'litellmctl'];

let validators;

function compile() {
  const schema = JSON.parse(fs.readFileSync(STATUS_SCHEMA_FILE, 'utf8'));
  const ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true, allErrors: true });
  ajv.addSchema(schema, 'status');
  const compiled = {};
  for (const name of STATUS_SHAPES) compiled[name] = ajv.getSchema(`status#/$defs/${name}`);
  return compiled;
}

/** [] or ["/path message (schema …)", …]. */
export function statusErrors(shape, value) {
  validators ??= compile();
  const check = validators[shape];
  if (!check) throw new Error(`no status shape ${shape}; one of ${STATUS_SHAPES.join(', ')}`);
  if (check(value)) return [];
  return check.errors.map((e) => `${e.instancePath || '/'} ${e.message}` +
    `${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''} (schema ${e.schemaPath})`);
}

export function assertStatus(shape, value, what = shape) {
  const errors = statusErrors(shape, value);
  assert.deepEqual(errors, [], `${what} does not match status.schema.json#/$defs/${shape}: ${JSON.stringify(value)}`);
}
