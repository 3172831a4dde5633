/**
 * The schema validator's output -> the policy compiler's errors: one per problem, at the JSON path of the
 * value. A value that may take one of several forms (oneOf/anyOf: an origin, a claim header) gets the
 * validator's complaint about every form it is not; the author meant one of them. So only the errors of the
 * one form whose type and required fields the value has are kept or, when no single form fits that way,
 * one line that lists the accepted forms.
 */
import type { OutputUnit } from '@cfworker/json-schema';

export interface SchemaError {
  /** JSON Pointer into the policy file. */
  path: string;
  message: string;
}

type Schema = { [keyword: string]: unknown };

/** Summaries that only say "a child failed": the child's own error is the useful one. */
const SUMMARY_KEYWORDS = new Set(['properties', 'additionalProperties', 'items', 'prefixItems', '$ref', 'allOf']);
const ALTERNATIVES = new Set(['oneOf', 'anyOf']);

/** `units` as the validator lists them: depth first, each alternative's failures right after it. */
export function schemaErrors(units: readonly OutputUnit[], schema: Schema, instance: unknown): SchemaError[] {
  const out: SchemaError[] = [];
  for (let i = 0; i < units.length; i++) {
    const unit = units[i]!;
    if (ALTERNATIVES.has(unit.keyword)) {
      const end = endOfAlternatives(units, i);
      out.push(...alternativesErrors(unit, units.slice(i + 1, end), schema, instance));
      i = end - 1;
    } else if (!SUMMARY_KEYWORDS.has(unit.keyword)) {
      out.push(errorOf(unit, schema));
    }
  }
  return out;
}

function errorOf(unit: OutputUnit, schema: Schema): SchemaError {
  const path = pointerOf(unit.instanceLocation);
  if (unit.keyword === 'false') return { path, message: `unknown field "${path.split('/').pop()}"` };
  // The validator says only "String does not match pattern.": the pattern is what tells the author what to write.
  if (unit.keyword === 'pattern') return { path, message: `value does not match pattern ${String(schemaAt(schema, unit.keywordLocation))}` };
  return { path, message: unit.error.replace(/^Instance /, 'value ') };
}

/** "#/routes/a%20b" -> "/routes/a b": a JSON Pointer (its ~0 and ~1 escapes kept) without the URI encoding. */
const pointerOf = (location: string) => decodeURIComponent(location.replace(/^#/, ''));

const segmentsOf = (location: string) =>
  pointerOf(location).split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

/**
 * Where the failures of the alternatives at `units[start]` end. A unit of an `additionalProperties: false`
 * failure ("false") carries the instance's location, not the schema's, so it is placed by the former.
 */
function endOfAlternatives(units: readonly OutputUnit[], start: number): number {
  const { keywordLocation, instanceLocation } = units[start]!;
  let end = start + 1;
  while (end < units.length) {
    const unit = units[end]!;
    const inside = unit.keywordLocation.startsWith(`${keywordLocation}/`) || (unit.keyword === 'false' && unit.instanceLocation.startsWith(`${instanceLocation}/`));
    if (!inside) break;
    end++;
  }
  return end;
}

function alternativesErrors(unit: OutputUnit, failures: readonly OutputUnit[], schema: Schema, instance: unknown): SchemaError[] {
  const forms = (schemaAt(schema, unit.keywordLocation) as Schema[]).map((form) => dereferenced(schema, form));
  const byForm = new Map<number, OutputUnit[]>();
  let form = -1;
  for (const failure of failures) {
    // A "false" unit (an unknown field) names no form: it belongs to the failure just before it.
    if (failure.keywordLocation.startsWith(`${unit.keywordLocation}/`)) form = Number(failure.keywordLocation.slice(unit.keywordLocation.length + 1).split('/')[0]);
    byForm.set(form, [...(byForm.get(form) ?? []), failure]);
  }
  // A oneOf that more than one form matched: the validator's own sentence says so.
  if (byForm.size < forms.length) return [errorOf(unit, schema)];
  const value = segmentsOf(unit.instanceLocation).reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], instance);
  const fitting = forms.flatMap((f, i) => (fits(schema, f, value) ? [i] : []));
  if (fitting.length === 1) return schemaErrors(byForm.get(fitting[0]!) ?? [], schema, instance);
  const accepted = [...new Set(forms.flatMap((f) => describe(schema, f)))];
  return [{ path: pointerOf(unit.instanceLocation), message: `value fits none of the accepted forms: ${listOf(accepted, 'or')}` }];
}

/** The schema node a unit's keywordLocation names; "$ref" steps into the referenced definition. */
function schemaAt(schema: Schema, keywordLocation: string): unknown {
  let node: unknown = schema;
  for (const segment of segmentsOf(keywordLocation)) {
    node = segment === '$ref' ? dereferenced(schema, node as Schema) : (node as Schema | undefined)?.[segment];
  }
  return node;
}

/** The policy schema's references are all local ("#/$defs/..."). */
function dereferenced(schema: Schema, node: Schema): Schema {
  let resolved = node;
  while (typeof resolved.$ref === 'string') resolved = (schemaAt(schema, resolved.$ref) ?? {}) as Schema;
  return resolved;
}

const typesOf = (form: Schema): string[] => (form.type === undefined ? [] : ([form.type].flat() as string[]));

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

/** A form that is itself a choice of forms: its alternatives, references followed. */
function innerForms(schema: Schema, form: Schema): Schema[] | null {
  const inner = (form.oneOf ?? form.anyOf) as Schema[] | undefined;
  return inner ? inner.map((f) => dereferenced(schema, f)) : null;
}

/** The form the author must have meant: the value has its type and every field it requires. */
function fits(schema: Schema, form: Schema, value: unknown): boolean {
  const inner = innerForms(schema, form);
  if (inner) return inner.some((f) => fits(schema, f, value));
  const types = typesOf(form);
  if (types.length > 0 && !types.some((type) => hasType(value, type))) return false;
  const required = (form.required ?? []) as string[];
  return required.every((name) => typeof value === 'object' && value !== null && Object.hasOwn(value, name));
}

const A_VALUE_OF_TYPE: Record<string, string> = {
  string: 'a string',
  array: 'an array',
  object: 'an object',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
};

function describe(schema: Schema, form: Schema): string[] {
  const inner = innerForms(schema, form);
  if (inner) return inner.flatMap((f) => describe(schema, f));
  const required = (form.required ?? []) as string[];
  const types = typesOf(form);
  if (types.length === 0) return [form.const !== undefined ? JSON.stringify(form.const) : 'a value of another form'];
  return types.map((type) => (type === 'object' && required.length > 0 ? `an object with ${listOf(required.map((name) => `"${name}"`), 'and')}` : (A_VALUE_OF_TYPE[type] ?? type)));
}

const listOf = (items: string[], conjunction: 'and' | 'or') =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
