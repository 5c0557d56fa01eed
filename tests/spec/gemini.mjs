// gemini.mjs: validates the gateway's Gemini API (v1beta) responses against
// gemini.schema.json (beside this file; hand-written from the @google/genai
// types and Google's API reference, cited in the file), with ajv's JSON Schema
// 2020-12 validator in strict mode (ajv-defs.mjs), plus what a schema cannot
// say and Gemini CLI relies on: an error's code is its HTTP status and its
// status name fits the code; usage counts add up.
//
//   const gemini = loadGemini();
//   gemini.validate(name, value)      → [] or ["/path message (schema …)", …]
//   errorProblems(value, httpStatus)  an error body's coherence (httpStatus
//                                     null: an error frame inside a stream)
//   usageProblems(usageMetadata)      totalTokenCount is the sum of its parts
//   GEMINI_SCHEMAS, GEMINI_SDK_VERSION, STATUS_NAMES_BY_CODE

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileDefs } from './ajv-defs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const GEMINI_SCHEMA_FILE = path.join(here, 'gemini.schema.json');
/** The @google/genai version the schema was written from (tests/package.json pins it). */
export const GEMINI_SDK_VERSION = '2.32.0';

export const GEMINI_SCHEMAS = [
  'GenerateContentResponse', 'GenerateContentResponseChunk', 'CountTokensResponse', 'ListModelsResponse', 'Model', 'ErrorResponse',
];

/**
 * The google.rpc.Code names each HTTP status may carry (google/rpc/code.proto's
 * "HTTP Mapping" lines; Google's troubleshooting table for the Gemini API). A
 * status not listed (413, 502, ...) has no code of its own there: any name goes.
 */
export const STATUS_NAMES_BY_CODE = {
  400: ['INVALID_ARGUMENT', 'FAILED_PRECONDITION', 'OUT_OF_RANGE'],
  401: ['UNAUTHENTICATED'],
  403: ['PERMISSION_DENIED'],
  404: ['NOT_FOUND'],
  409: ['ABORTED', 'ALREADY_EXISTS'],
  429: ['RESOURCE_EXHAUSTED'],
  499: ['CANCELLED'],
  500: ['INTERNAL', 'UNKNOWN', 'DATA_LOSS'],
  501: ['UNIMPLEMENTED'],
  503: ['UNAVAILABLE'],
  504: ['DEADLINE_EXCEEDED'],
};

let loaded = null;

/** Compiles the schema once: {schema, validate(name, value)}. */
export function loadGemini() {
  loaded ??= compileDefs({ file: GEMINI_SCHEMA_FILE, id: 'gemini', names: GEMINI_SCHEMAS, what: 'Gemini schema' });
  return loaded;
}

/**
 * What an error body (already valid as ErrorResponse) says wrong: Gemini CLI
 * classifies an error by error.code, so on an HTTP error it must be the HTTP
 * status; the status name must be one google.rpc gives that code.
 */
export function errorProblems(value, httpStatus) {
  const problems = [];
  const { code, status } = value.error;
  if (httpStatus !== null && code !== httpStatus) problems.push(`error.code ${code} is not the HTTP status ${httpStatus}`);
  const names = STATUS_NAMES_BY_CODE[code];
  if (names && !names.includes(status)) problems.push(`error.status ${status} for code ${code}; google.rpc gives ${names.join(' or ')}`);
  return problems;
}

/** totalTokenCount = prompt + candidates + toolUsePrompt + thoughts (the SDK's and the reference's definition). */
export function usageProblems(usage) {
  if (!usage || !Number.isInteger(usage.totalTokenCount)) return [];
  const sum = ['promptTokenCount', 'candidatesTokenCount', 'toolUsePromptTokenCount', 'thoughtsTokenCount']
    .reduce((total, field) => total + (Number.isInteger(usage[field]) ? usage[field] : 0), 0);
  return usage.totalTokenCount === sum ? [] : [`usageMetadata.totalTokenCount ${usage.totalTokenCount} is not the sum of its parts (${sum})`];
}
