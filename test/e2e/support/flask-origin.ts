/** Starts flask-origin.py with Debian's python3 (python3-flask), or says why it cannot. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** Debian's python3-flask installs for the system interpreter, not for a python3 earlier on PATH. */
export const FLASK_PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'flask-origin.py');

export function flaskAvailable(): boolean {
  return spawnSync(FLASK_PYTHON, ['-c', 'import flask'], { stdio: 'ignore' }).status === 0;
}

export async function startFlaskOrigin(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(FLASK_PYTHON, [SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = /^\{.*\}$/m.exec(out)?.[0];
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`flask-origin.py exited with ${code} before listening`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
