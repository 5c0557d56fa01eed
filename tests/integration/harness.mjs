// harness.mjs: what an integration test imports, in one place. The parts live
// in tests/lib/ (shared with tests/e2e, tests/bench and tests/worker):
//
//   paths.mjs        the binaries under test (LITELLMCTL, LITELLM_FCGI, ...)
//   procs.mjs        bounds, waits, free ports, commands, /proc, ending processes
//   spec-guard.mjs   every response validated against OpenAI's OpenAPI document
//   http.mjs         HTTP/SSE/curl clients (validated)
//   pipe.mjs         rawPipeClient (hostile peers only) and the line splitter
//   worker.mjs       the pipe test worker as a child process
//   stack.mjs        Stack (litellmctl lifecycle), useStack, useStacks, Redis
//   openai.mjs       OpenAI shape assertions
//
// Environment: LITELLMCTL, LITELLM_FCGI, LITELLM_TEMPLATES, TEST_WORKER (set by
// `make check`); optional LITELLM_NGINX, CURL, LITELLM_OPENAPI_BUNDLE,
// LITELLM_SPEC_EXTRAS, LITELLM_SANITIZER_LOGS=1, LITELLM_GUARD_SCALE,
// LITELLM_LONG_TESTS=1 (see tests/README.md).

export * from '../lib/paths.mjs';
export * from '../lib/procs.mjs';
export * from '../lib/spec-guard.mjs';
export * from '../lib/http.mjs';
export * from '../lib/pipe.mjs';
export * from '../lib/worker.mjs';
export * from '../lib/stack.mjs';
export * from '../lib/openai.mjs';
