// openapi.mjs: validates the gateway's responses against OpenAI's own OpenAPI
// document (openai-openapi.yaml beside this file; see README.md), with ajv's
// JSON Schema 2020-12 validator (OpenAPI 3.1 schemas are JSON Schema 2020-12).
//
//   const spec = await load();
//   spec.validate(name, value)     → [] or a list of "path message" strings
//   spec.undocumented(name, value) → paths of fields the schema does not
//                                    describe (allowed: no schema we use sets
//                                    additionalProperties false; reported only)
//   spec.streamEvents              a Responses stream event's type → its schema
//   SCHEMAS                        the component schemas responses are checked with
//
// The document is 3 MB of YAML (about 1 s to parse); the schemas we need are
// extracted once into a small bundle. run.sh writes the bundle once per run
// (`node spec/openapi.mjs --write FILE`) and passes it as
// LITELLM_OPENAPI_BUNDLE; without it every process parses the YAML itself.
//
// What the extraction does to the document, and why (each is counted in
// bundle.notes, and README.md explains them):
//   - $ref "#/components/schemas/X" → "#/$defs/X" (the schemas are bundled
//     under $defs of one 2020-12 schema);
//   - `nullable: true` (an OpenAPI 3.0 keyword that the 3.1 document still
//     uses in a few places, e.g. the stream chunk's usage, finish_reason and
//     logprobs) is given its 3.0 meaning: null is allowed. Under plain 2020-12
//     it is an unknown keyword, which would make OpenAI's own
//     `"finish_reason": null` and `"usage": null` chunks invalid;
//   - annotation-only vendor keywords (x-*, example, discriminator) are
//     removed so that ajv can run in strict mode and catch any keyword it does
//     not understand;
//   - `format: unixtime` (OpenAI's own format) is defined: a non-negative
//     integer number of seconds.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import crypto from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ajvErrorLines } from './ajv-defs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SPEC_FILE = path.join(here, 'openai-openapi.yaml');

/** The response schemas the suite validates against. */
export const SCHEMAS = [
  'CreateChatCompletionResponse',
  'CreateChatCompletionStreamResponse',
  'ListModelsResponse',
  'Model',
  'ErrorResponse',
  // The Responses API (POST /v1/responses, its stream, /v1/responses/input_tokens).
  'Response',
  'ResponseStreamEvent',
  'TokenCountsResource',
];

const BUNDLE_VERSION = 3;
const DROPPED_KEYWORDS = new Set(['example', 'discriminator']);

function specHash(text) {
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Parses the YAML and builds the bundle: {version, hash, schema, notes}. */
export async function buildBundle(specFile = SPEC_FILE) {
  const { parse } = await import('yaml');
  const text = fs.readFileSync(specFile, 'utf8');
  const document = parse(text);
  if (!/^3\.1\./.test(String(document.openapi))) {
    throw new Error(`${specFile}: expected an OpenAPI 3.1 document, got openapi ${document.openapi}`);
  }
  const components = document.components?.schemas ?? {};
  const notes = { nullable: [], dropped: {}, additionalPropertiesFalse: [], recursiveRef: [] };
  const defs = {};
  const pending = [...SCHEMAS];
  const seen = new Set(pending);

  let component = null; // the component schema being converted (for $recursiveRef)
  const convert = (node, where) => {
    if (Array.isArray(node)) return node.map((item, i) => convert(item, `${where}/${i}`));
    if (!node || typeof node !== 'object') return node;
    const out = {};
    for (const [key, value] of Object.entries(node)) {
      if (key.startsWith('x-') || DROPPED_KEYWORDS.has(key)) {
        notes.dropped[key] = (notes.dropped[key] ?? 0) + 1;
        continue;
      }
      if (key === 'nullable') continue; // handled below
      if (key === '$recursiveAnchor') continue; // draft 2019-09: see $recursiveRef
      if (key === '$recursiveRef') {
        // Draft 2019-09's recursion (CompoundFilter: filters of filters), which
        // 2020-12 replaced: "#" means the component itself.
        if (value !== '#') throw new Error(`unsupported $recursiveRef ${value} at ${where}`);
        notes.recursiveRef.push(where);
        out.$ref = `#/$defs/${component}`;
        continue;
      }
      if (key === '$ref') {
        const match = /^#\/components\/schemas\/(.+)$/.exec(value);
        if (!match || !(match[1] in components)) throw new Error(`unresolvable $ref ${value} at ${where}`);
        if (!seen.has(match[1])) { seen.add(match[1]); pending.push(match[1]); }
        out.$ref = `#/$defs/${match[1]}`;
        continue;
      }
      if (key === 'properties' || key === 'patternProperties' || key === '$defs') {
        out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, convert(sub, `${where}/${key}/${name}`)]));
        continue;
      }
      if (key === 'additionalProperties' && value === false) notes.additionalPropertiesFalse.push(where);
      out[key] = convert(value, `${where}/${key}`);
    }
    if (node.nullable === true) {
      notes.nullable.push(where);
      return allowNull(out);
    }
    return out;
  };

  while (pending.length) {
    const name = pending.shift();
    component = name;
    defs[name] = convert(components[name], `#/components/schemas/${name}`);
  }
  // The requests' parameter names (for the compatibility tables' tests):
  // CreateChatCompletionRequest's, and CreateResponse's.
  const requestParameters = [];
  const gather = (schema) => {
    if (schema?.$ref) return gather(components[schema.$ref.split('/').pop()]);
    for (const key of ['allOf', 'anyOf', 'oneOf']) for (const sub of schema?.[key] ?? []) gather(sub);
    for (const [name, sub] of Object.entries(schema?.properties ?? {})) {
      if (!requestParameters.some((p) => p.name === name)) requestParameters.push({ name, deprecated: sub.deprecated === true });
    }
  };
  gather(components.CreateChatCompletionRequest);
  const chatParameters = requestParameters.splice(0);
  gather(components.CreateResponse);
  const responsesRequestParameters = requestParameters.splice(0);
  requestParameters.push(...chatParameters);
  return {
    version: BUNDLE_VERSION,
    hash: specHash(text),
    info: { openapi: document.openapi, apiVersion: document.info?.version },
    schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', $defs: defs },
    notes,
    requestParameters,
    responsesRequestParameters,
  };
}

/** OpenAPI 3.0's `nullable: true`: the schema, or null. */
function allowNull(schema) {
  if (typeof schema.type === 'string' && !schema.$ref && !schema.anyOf && !schema.oneOf && !schema.allOf) {
    const out = { ...schema, type: [schema.type, 'null'] };
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) out.enum = [...schema.enum, null];
    return out;
  }
  const { description, deprecated, title, default: dflt, ...rest } = schema;
  const out = { anyOf: [rest, { type: 'null' }] };
  if (description !== undefined) out.description = description;
  if (deprecated !== undefined) out.deprecated = deprecated;
  if (title !== undefined) out.title = title;
  if (dflt !== undefined) out.default = dflt;
  return out;
}

let loaded = null;

/** The bundle: from LITELLM_OPENAPI_BUNDLE when it matches the YAML, else built now. */
async function bundle() {
  const file = process.env.LITELLM_OPENAPI_BUNDLE;
  if (file && fs.existsSync(file)) {
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (data.version === BUNDLE_VERSION && data.hash === specHash(fs.readFileSync(SPEC_FILE, 'utf8'))) return data;
  }
  return buildBundle();
}

/**
 * Compiles the validators once. Resolves with {info, notes, validate(name,
 * value), undocumented(name, value)}; both functions are synchronous.
 */
export async function load() {
  loaded ??= (async () => {
    const data = await bundle();
    const ajv = new Ajv2020({
      strict: true, // a keyword ajv does not know is an error, never silently ignored
      strictTypes: false, // OpenAI's schemas often give `properties` without `type: object`
      strictRequired: false,
      allowUnionTypes: true,
      allErrors: true,
      validateFormats: true,
    });
    addFormats(ajv);
    ajv.addFormat('unixtime', { type: 'number', validate: (n) => Number.isInteger(n) && n >= 0 });
    ajv.addSchema({ ...data.schema, $id: 'openai' });
    const defs = data.schema.$defs;
    // Compiled on first use: the Responses schemas take longer to compile than
    // the rest together, and most test files never meet them. Any schema of
    // the bundle may be used (e.g. one event of ResponseStreamEvent).
    const compiled = new Map();
    const validators = (name) => {
      if (!compiled.has(name)) compiled.set(name, Object.hasOwn(defs, name) ? ajv.getSchema(`openai#/$defs/${name}`) : undefined);
      return compiled.get(name);
    };
    // ResponseStreamEvent is a union: each event `type` → its own schema (for precise messages).
    const streamEvents = {};
    for (const branch of defs.ResponseStreamEvent?.anyOf ?? []) {
      const name = branch.$ref?.replace('#/$defs/', '');
      for (const type of defs[name]?.properties?.type?.enum ?? []) streamEvents[type] = name;
    }
    return {
      streamEvents,
      info: data.info,
      notes: data.notes,
      requestParameters: data.requestParameters,
      responsesRequestParameters: data.responsesRequestParameters,
      validate: (name, value) => validateWith(validators, name, value),
      undocumented: (name, value) => undocumentedIn(defs, name, value),
    };
  })();
  return loaded;
}

/** [] or ["/path message (schema …)", …]. */
function validateWith(validators, name, value) {
  const check = validators(name);
  if (!check) throw new Error(`no validator for schema ${name}`);
  return check(value) ? [] : ajvErrorLines(check.errors);
}

/**
 * Fields of `value` that schema `name` does not describe (its properties,
 * through $ref/allOf/anyOf/oneOf, union of all branches): ["/data/0/family", …].
 * Not a violation: none of these schemas forbids additional properties.
 */
function undocumentedIn(defs, name, value) {
  const found = [];
  const resolve = (schema) => (schema?.$ref ? defs[schema.$ref.replace('#/$defs/', '')] : schema);
  const collect = (schema, acc, depth = 0) => {
    schema = resolve(schema);
    if (!schema || typeof schema !== 'object' || depth > 20) return acc;
    if (schema.$ref) collect(schema, acc, depth + 1);
    for (const key of ['allOf', 'anyOf', 'oneOf']) for (const sub of schema[key] ?? []) collect(sub, acc, depth + 1);
    if (schema.properties) for (const [prop, sub] of Object.entries(schema.properties)) (acc.props[prop] ??= []).push(sub);
    if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) acc.additional = true;
    if (schema.items) acc.items.push(schema.items);
    return acc;
  };
  const walk = (schema, node, where) => {
    const acc = collect(schema, { props: {}, items: [], additional: false });
    if (Array.isArray(node)) {
      node.forEach((item, i) => { for (const sub of acc.items) walk(sub, item, `${where}/${i}`); });
    } else if (node && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        if (acc.props[key]) for (const sub of acc.props[key]) walk(sub, child, `${where}/${key}`);
        else if (!acc.additional) found.push(`${where}/${key}`);
      }
    }
  };
  walk({ $ref: `#/$defs/${name}` }, value, '');
  return [...new Set(found)];
}

// `node spec/openapi.mjs --write FILE`: write the bundle (run.sh, once per run).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [flag, out] = process.argv.slice(2);
  if (flag !== '--write' || !out) {
    process.stderr.write('usage: node openapi.mjs --write FILE\n');
    process.exit(2);
  }
  const data = await buildBundle();
  const tmp = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data));
  fs.renameSync(tmp, out);
}
