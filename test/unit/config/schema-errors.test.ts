/** The alternatives rules on schemas of their own: what the policy schema has no case of (yet). */
import { Validator } from '@cfworker/json-schema';
import { describe, expect, it } from 'vitest';
import { schemaErrors } from '../../../src/config/schema-errors.ts';

const errorsOf = (schema: Record<string, unknown>, value: unknown) => schemaErrors(new Validator(schema, '2020-12', false).validate(value).errors, schema, value);

describe('schemaErrors', () => {
  it('treats anyOf as oneOf: the errors of the one form that fits', () => {
    const schema = { anyOf: [{ type: 'string', minLength: 3 }, { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } }] };
    expect(errorsOf(schema, { id: 'x' })).toEqual([{ path: '/id', message: 'value type "string" is invalid. Expected "integer".' }]);
    expect(errorsOf(schema, 'ab')).toEqual([{ path: '', message: 'String is too short (2 < 3).' }]);
    expect(errorsOf(schema, 7)).toEqual([{ path: '', message: 'value fits none of the accepted forms: a string or an object with "id"' }]);
  });

  it('keeps the validator\'s sentence when more than one form matched', () => {
    expect(errorsOf({ oneOf: [{ type: 'number' }, { type: 'integer' }] }, 1)).toEqual([{ path: '', message: 'value does not match exactly one subschema (2 matches).' }]);
  });

  it('follows references and nests: the inner alternatives are judged the same way', () => {
    const schema = {
      $defs: { port: { oneOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^[a-z]+$' }] } },
      type: 'object',
      properties: { listen: { oneOf: [{ $ref: '#/$defs/port' }, { type: 'object', required: ['port'], additionalProperties: false, properties: { port: { $ref: '#/$defs/port' } } }] } },
    };
    expect(errorsOf(schema, { listen: { port: 0 } })).toEqual([{ path: '/listen/port', message: '0 is less than 1.' }]);
    expect(errorsOf(schema, { listen: { port: 8080, host: 'x' } })).toEqual([{ path: '/listen/host', message: 'unknown field "host"' }]);
    expect(errorsOf(schema, { listen: true })).toEqual([{ path: '/listen', message: 'value fits none of the accepted forms: an integer, a string or an object with "port"' }]);
  });
});
