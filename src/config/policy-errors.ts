/**
 * What is wrong with the policies, and where: the file, the JSON Pointer inside it and the line and column it
 * leads to. Every part of the compiler (compile-*.ts) reports into one ErrorList, in the order it finds things.
 */
import { findNodeAtLocation, type Node } from 'jsonc-parser';

export interface PolicyError {
  file: string;
  /** JSON Pointer into the file, "" for the whole file. */
  path: string;
  line: number;
  column: number;
  message: string;
}

export function formatPolicyError(e: PolicyError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.path || '(file)'}: ${e.message}`;
}

/** Reports one problem at a JSON path relative to one place in a file (an issuer, a route, settings). */
export type Report = (path: (string | number)[], message: string) => void;

export class ErrorList {
  readonly errors: PolicyError[] = [];
  readonly #trees = new Map<string, { text: string; root: Node | undefined }>();

  addFile(file: string, text: string, root: Node | undefined) {
    this.#trees.set(file, { text, root });
  }

  add(file: string, path: string, message: string, offset?: number) {
    const tree = this.#trees.get(file);
    let at = offset;
    if (at === undefined && tree?.root) {
      const segments = path.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
      // The deepest node that exists (an error about a missing field points at its parent), at its key when it has one.
      for (let n = segments.length; n >= 0 && at === undefined; n--) {
        const node = findNodeAtLocation(tree.root, segments.slice(0, n));
        at = node?.parent?.type === 'property' ? node.parent.offset : node?.offset;
      }
    }
    const { line, column } = lineAndColumn(tree?.text ?? '', at ?? 0);
    this.errors.push({ file, path, line, column, message });
  }

  /** A Report for the place `base` (e.g. "routes", id) in `file`: its paths are relative to that place. */
  reportAt(file: string, ...base: (string | number)[]): Report {
    return (path, message) => this.add(file, pointer(...base, ...path), message);
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

export const pointer = (...parts: (string | number)[]) => parts.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
