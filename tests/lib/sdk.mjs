// sdk.mjs: what the tests that drive a vendor's own SDK client share.

import assert from 'node:assert/strict';

/**
 * Runs fn, expects it to throw an instance of `errorClass` that carries the
 * request id the SDK read from the response (x-request-id, or Anthropic's
 * request-id); returns the error.
 */
export async function expectApiError(fn, errorClass) {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof errorClass, `expected ${errorClass.name}, got ${err?.constructor?.name}: ${err?.message}`);
    assert.ok(err.requestID, 'the SDK read the response\'s request id');
    return err;
  }
  assert.fail(`expected ${errorClass.name}, but the call succeeded`);
}
