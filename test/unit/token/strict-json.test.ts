import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../../src/config/constants.ts';
import { base64UrlEncode } from '../../../src/token/base64url.ts';
import { parseTokenShape } from '../../../src/token/shape.ts';
import { findStrictJsonProblem, strictJsonProblemOf } from '../../../src/token/strict-json.ts';

const nest = (depth: number, open = '[', close = ']') => `{"a":${open.repeat(depth - 1)}1${close.repeat(depth - 1)}}`;

// The full scan, and the counting shortcut the gate calls (it falls back to the scan): one table, both answers.
const implementations = [
  ['findStrictJsonProblem', (text: string) => findStrictJsonProblem(text)],
  ['strictJsonProblemOf', (text: string) => strictJsonProblemOf(text, JSON.parse(text))],
] as const;

describe.each(implementations)('%s', (_impl, findStrictJsonProblem) => {
  it.each([
    ['flat object', '{"a":1,"b":2}'],
    ['equal names in sibling objects', '{"a":{"x":1},"b":{"x":2}}'],
    ['equal names at different depths', '{"x":{"x":{"x":1}}}'],
    ['a value equal to a name', '{"a":"a","b":["a","a"]}'],
    ['strings holding brackets, commas and escaped quotes', '{"a":"{\\"a\\":1,}","b":"]["}'],
    ['names that differ only after an escape', '{"a":1,"\\u0062":2}'],
    ['objects inside arrays', '[{"a":1},{"a":2}]'],
    ['whitespace everywhere', ' { "a" : 1 , "b" : [ 1 , { "a" : 2 } ] } '],
    ['empty containers', '{"a":{},"b":[],"c":[{}]}'],
    ['escaped quotes and backslashes in names', '{"a\\"":1,"a\\\\":2,"a\\\\\\"":3,"a":4}'],
    ['a name ending in a backslash beside one ending in a quote', '{"x\\\\":{"y":1},"x\\"":{"y":2}}'],
  ])('accepts %s', (_name, text) => {
    JSON.parse(text);
    expect(findStrictJsonProblem(text)).toBeNull();
  });

  it.each([
    ['at the top', '{"a":1,"a":2}'],
    ['with different values and types', '{"sub":"alice","x":0,"sub":{"y":1}}'],
    ['in a nested object', '{"a":{"b":1,"c":2,"b":3}}'],
    ['in an object inside an array', '{"a":[1,{"b":1,"b":1}]}'],
    ['after a nested object closes', '{"a":{"a":1},"b":2,"a":3}'],
    ['spelled with a unicode escape', '{"a":1,"\\u0061":2}'],
    ['spelled with two different escapes', '{"\\u0061b":1,"a\\u0062":2}'],
    ['escaped slash', '{"a/b":1,"a\\/b":2}'],
    ['around whitespace', '{ "a" : 1 ,\n "a" : 2 }'],
    ['the empty name', '{"":1,"":2}'],
    ['__proto__', '{"__proto__":1,"__proto__":2}'],
    ['ending in an escaped backslash', '{"a\\\\":1,"b":{"c":"\\\\"},"a\\u005c":2}'],
    ['after a value holding escaped quotes', '{"a":"\\"a\\":1,","b":1,"b":2}'],
  ])('refuses a duplicate member name %s', (_name, text) => {
    JSON.parse(text); // valid JSON: only the duplicate is wrong
    expect(findStrictJsonProblem(text)).toBe('duplicate member name');
  });

  it('bounds nesting of arrays and objects alike', () => {
    expect(findStrictJsonProblem(nest(MAX_JSON_DEPTH))).toBeNull();
    expect(findStrictJsonProblem(nest(MAX_JSON_DEPTH + 1))).toBe('nested too deeply');
    expect(findStrictJsonProblem(nest(MAX_JSON_DEPTH + 1, '{"b":', '}'))).toBe('nested too deeply');
    expect(findStrictJsonProblem(`{"a":${'['.repeat(3000)}${']'.repeat(3000)}}`)).toBe('nested too deeply');
  });
});

describe('the counting shortcut agrees with the full scan', () => {
  // A small seeded generator of JSON texts, many of them with duplicate names, escaped quotes and colons in
  // strings, whitespace and nesting: the shortcut must answer exactly as the scan does for every one.
  let seed = 0x2545f491;
  const random = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const pick = <T>(items: readonly T[]) => items[random(items.length)]!;
  const NAMES = ['a', 'b', '\\u0061', 'a\\"', 'a\\\\', ':', '\\":', ''];
  const STRINGS = ['"x"', '"\\":"', '"a\\" : b"', '"{\\"a\\":1}"', '":"', '"\\\\"'];
  const space = () => pick(['', ' ', '\n', ' \t ']);
  const value = (depth: number): string => {
    const kind = depth > 18 ? random(2) : random(5);
    if (kind === 0) return pick(['1', 'true', 'null', '-2.5e3']);
    if (kind === 1) return pick(STRINGS);
    if (kind === 2) return `[${Array.from({ length: random(3) }, () => space() + value(depth + 1) + space()).join(',')}]`;
    return `{${Array.from({ length: random(4) }, () => `${space()}"${pick(NAMES)}"${space()}:${space()}${value(depth + 1)}`).join(',')}}`;
  };

  it('on 5,000 generated texts, with and without duplicates or deep nesting', () => {
    const answers = new Map<string | null, number>();
    for (let i = 0; i < 5000; i++) {
      const text = `{"root":${value(1)}}`;
      const full = findStrictJsonProblem(text);
      expect(strictJsonProblemOf(text, JSON.parse(text)), text).toBe(full);
      answers.set(full, (answers.get(full) ?? 0) + 1);
    }
    // The generator reaches all three answers, so the comparison covers each.
    expect([...answers.keys()].sort()).toEqual(['duplicate member name', 'nested too deeply', null].sort());
  });
});

describe('the shape gate refuses duplicates and deep nesting in both segments', () => {
  const enc = (text: string) => base64UrlEncode(new TextEncoder().encode(text));
  const HEADER = enc('{"alg":"RS256"}');
  const PAYLOAD = enc('{"sub":"a"}');

  it.each([
    ['header', `${enc('{"alg":"RS256","alg":"none"}')}.${PAYLOAD}.c2ln`, 'header: duplicate member name'],
    ['header, escaped', `${enc('{"alg":"RS256","\\u0061lg":"HS256"}')}.${PAYLOAD}.c2ln`, 'header: duplicate member name'],
    ['payload', `${HEADER}.${enc('{"sub":"alice","sub":"admin"}')}.c2ln`, 'payload: duplicate member name'],
    ['payload, nested', `${HEADER}.${enc('{"realm_access":{"roles":["a"],"roles":["admin"]}}')}.c2ln`, 'payload: duplicate member name'],
    ['payload, nested too deeply', `${HEADER}.${enc(nest(MAX_JSON_DEPTH + 1))}.c2ln`, 'payload: nested too deeply'],
  ])('%s', (_name, raw, detail) => {
    expect(parseTokenShape(raw)).toEqual({ ok: false, finding: { code: 'token_malformed', detail } });
  });
});
