// ajv-defs.mjs: what the schema modules beside it share: a JSON Schema file's
// named $defs compiled with ajv's JSON Schema 2020-12 validator in strict
// mode (a keyword ajv does not know is an error, never silently ignored), and
// ajv's errors as one readable line each.
//
//   const { schema, validate } = compileDefs({ file, id: 'gemini', names, what: 'Gemini schema' });
//   validate(name, value)   → [] or ["/path message {params} (schema …)", …]
//   ajvErrorLines(errors)   the same lines for a validator of one's own

import fs from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** The options every schema here is compiled with, unless a module relaxes them. */
export const STRICT_AJV_OPTIONS = {
  strict: true,
  allowUnionTypes: true,
  allErrors: true,
  validateFormats: true,
};

/** ["/path message {params} (schema …)", …] for ajv's `errors`. */
export function ajvErrorLines(errors) {
  return errors.map((e) => `${e.instancePath || '/'} ${e.message}` +
    `${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''} (schema ${e.schemaPath})`);
}

/**
 * Compiles `names` of `file`'s $defs (each must exist) under the schema id
 * `id`: {schema, validate(name, value)}; `what` names a schema in the error
 * for a name that was not compiled.
 */
export function compileDefs({ file, id, names, what, options = STRICT_AJV_OPTIONS }) {
  const schema = JSON.parse(fs.readFileSync(file, 'utf8'));
  const ajv = new Ajv2020(options);
  addFormats(ajv);
  ajv.addSchema({ ...schema, $id: id });
  const validators = {};
  for (const name of names) {
    validators[name] = ajv.getSchema(`${id}#/$defs/${name}`);
    if (!validators[name]) throw new Error(`${file} has no $defs/${name}`);
  }
  return {
    schema,
    validate(name, value) {
      const check = validators[name];
      if (!check) throw new Error(`no ${what} ${name}; one of ${names.join(', ')}`);
      return check(value) ? [] : ajvErrorLines(check.errors);
    },
  };
}
