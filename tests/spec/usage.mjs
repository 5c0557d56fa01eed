// The usage document's schema (usage.schema.json beside this file), compiled
// with ajv in strict mode: GET /usage and `litellmctl usage --json`.
//
//   import { assertUsage } from '../spec/usage.mjs';
//   assertUsage(json, 'GET /usage');

import fs from 'node:fs';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020.js';
import { ajvErrorLines } from './ajv-defs.mjs';

export const USAGE_SCHEMA_FILE = new URL('./usage.schema.json', import.meta.url);

let validate;

/** [] or ["/path message (schema …)", …]. */
export function usageErrors(value) {
  if (!validate) {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    validate = ajv.compile(JSON.parse(fs.readFileSync(USAGE_SCHEMA_FILE, 'utf8')));
  }
  if (validate(value)) return [];
  return ajvErrorLines(validate.errors);
}

export function assertUsage(value, what = 'usage document') {
  assert.deepEqual(usageErrors(value), [], `${what} does not match usage.schema.json: ${JSON.stringify(value)}`);
}
