/** A CONFIG_DIR for the file backend, written the way deploy tools do (write, then rename). */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

export interface ConfigDir {
  readonly path: string;
  write(file: 'webhooks.json' | 'connections.json', value: unknown): void;
  /** Writes text or bytes as they are: "__proto__" keys, nesting too deep for JSON.stringify, or garbage. */
  writeText(file: 'webhooks.json' | 'connections.json', text: string | Buffer): void;
  remove(): void;
}

export function makeConfigDir(): ConfigDir {
  const path = tempDir('cwm-config-');
  return {
    path,
    write(file, value) {
      this.writeText(file, JSON.stringify(value));
    },
    writeText(file, text) {
      const tmp = join(path, `.${file}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, join(path, file));
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** A config dir holding these webhooks (JSON text is written as is) and, optionally, connections. */
export function configDirWith(webhooks: unknown, connections?: unknown): ConfigDir {
  const dir = makeConfigDir();
  if (connections !== undefined) dir.write('connections.json', connections);
  if (typeof webhooks === 'string') dir.writeText('webhooks.json', webhooks);
  else dir.write('webhooks.json', webhooks);
  return dir;
}
