import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { describeError, formatRequestLine } from '../../src/logger';

describe('logging', () => {
  it('formats one line per request, without message text', () => {
    assert.equal(
      formatRequestLine({ id: 'abc', model: 'copilot/gpt-4o', promptTokens: 12, completionTokens: 40, ms: 811.6, outcome: 'stop' }),
      'request id=abc model=copilot/gpt-4o prompt_tokens=12 completion_tokens=40 ms=812 outcome=stop',
    );
    assert.equal(
      formatRequestLine({ id: 'x', model: 'm', ms: 3, outcome: 'internal', detail: 'provider said "no"' }),
      'request id=x model=m prompt_tokens=- completion_tokens=- ms=3 outcome=internal detail="provider said \\"no\\""',
    );
  });

  it('describes an error with its causes, once each', () => {
    const root = new Error('ECONNREFUSED');
    const middle = new Error('upstream failed', { cause: root });
    assert.equal(describeError(new Error('request failed', { cause: middle })), 'request failed <- caused by: upstream failed <- caused by: ECONNREFUSED');
    assert.equal(describeError(new Error('cannot connect: ENOENT', { cause: new Error('ENOENT') })), 'cannot connect: ENOENT');
    assert.equal(describeError('plain'), 'plain');
    assert.equal(describeError({ code: 1 }), '{ code: 1 }');
  });
});
