/**
 * Policy file texts -> the policies they hold: each parsed, free of keys given twice and checked against the
 * schema (a file that fails any of these is reported and left out). And ids across files: an issuer or route
 * id is declared in one file only.
 */
import { Validator } from '@cfworker/json-schema';
import { getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import schema from './policy.schema.json' with { type: 'json' };
import { pointer, type ErrorList } from './policy-errors.ts';
import { schemaErrors } from './schema-errors.ts';
import type { IssuerSource } from './compile-issuers.ts';
import type { RouteSource } from './compile-routes.ts';
import type { SettingsSource } from './compile-settings.ts';

export interface PolicySource {
  /** As shown in errors, e.g. "policies/demo.jsonc". */
  file: string;
  text: string;
}

/** The policy file as the schema describes it; the schema has been checked before these are read. */
export interface PolicyFile {
  settings?: SettingsSource;
  issuers?: Record<string, IssuerSource>;
  routes?: Record<string, RouteSource>;
}

export interface ReadPolicyFile {
  file: string;
  policy: PolicyFile;
}

const validator = new Validator(schema as object, '2020-12', false);

export function readPolicyFiles(sources: readonly PolicySource[], errors: ErrorList): ReadPolicyFile[] {
  const files: ReadPolicyFile[] = [];
  for (const { file, text } of sources) {
    const policy = readPolicyFile(file, text, errors);
    if (policy !== null) files.push({ file, policy });
  }
  return files;
}

function readPolicyFile(file: string, text: string, errors: ErrorList): PolicyFile | null {
  const parseErrors: ParseError[] = [];
  const root = parseTree(text, parseErrors, { allowTrailingComma: true, disallowComments: false });
  errors.addFile(file, text, root);
  if (parseErrors.length > 0 || !root) {
    for (const e of parseErrors) errors.add(file, '', `syntax: ${printParseErrorCode(e.error)}`, e.offset);
    if (parseErrors.length === 0) errors.add(file, '', 'empty file');
    return null;
  }
  const duplicates = duplicateKeys(root);
  for (const { path, offset, key } of duplicates) {
    errors.add(file, path, `duplicate key "${key}": only one of the two would count, silently`, offset);
  }
  if (duplicates.length > 0) return null;
  const value: unknown = getNodeValue(root);
  const result = validator.validate(value);
  if (!result.valid) {
    const found = schemaErrors(result.errors, schema, value);
    for (const e of found) errors.add(file, e.path, e.message);
    // Fail closed: a file the schema refused is never left out silently, even if no error could be shaped.
    if (found.length === 0) errors.add(file, '', 'does not match the policy schema');
    return null;
  }
  return value as PolicyFile;
}

/**
 * Keys given twice in one object. A JSON reader keeps the last (a second "billing" route silently replaces
 * the first, a second "mode" wins): refused, like the same route id in two files.
 */
function duplicateKeys(root: Node): { path: string; offset: number; key: string }[] {
  const found: { path: string; offset: number; key: string }[] = [];
  const walk = (node: Node, path: (string | number)[]) => {
    if (node.type === 'object') {
      const seen = new Set<string>();
      for (const property of node.children ?? []) {
        const [keyNode, valueNode] = property.children ?? [];
        const key = String(keyNode?.value);
        if (seen.has(key)) found.push({ path: pointer(...path, key), offset: property.offset, key });
        seen.add(key);
        if (valueNode) walk(valueNode, [...path, key]);
      }
    } else if (node.type === 'array') {
      (node.children ?? []).forEach((child, i) => walk(child, [...path, i]));
    }
  };
  walk(root, []);
  return found;
}

/**
 * Calls `compile` for each issuer (or route) of the files in order; an id an earlier file already declared
 * is reported there and skipped. Returns the file that declares each id.
 */
export function forEachDeclared<K extends 'issuers' | 'routes'>(
  files: readonly ReadPolicyFile[],
  kind: K,
  errors: ErrorList,
  compile: (id: string, source: NonNullable<PolicyFile[K]>[string], file: string) => void,
): Map<string, string> {
  const declaredIn = new Map<string, string>();
  for (const { file, policy } of files) {
    for (const [id, source] of Object.entries(policy[kind] ?? {}) as [string, NonNullable<PolicyFile[K]>[string]][]) {
      if (declaredIn.has(id)) {
        errors.add(file, pointer(kind, id), `${kind === 'issuers' ? 'issuer' : 'route'} "${id}" is already defined in ${declaredIn.get(id)}`);
        continue;
      }
      declaredIn.set(id, file);
      compile(id, source, file);
    }
  }
  return declaredIn;
}
