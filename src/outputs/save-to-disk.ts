/**
 * `save_to_disk`: one file per delivery, `<uuid4>.txt` (CWM's naming) or
 * `filename_template` (`filename_pattern`, CWM's docs' other name) with
 * `{uuid}`, `{timestamp}` and `{webhook_id}`, holding the body bytes as
 * received. Acknowledged once the file is written, fsync'd, linked into place
 * from a temp file and the directory fsync'd: a crash leaves either no file or
 * the whole file. Linking never replaces a file: a template without `{uuid}`
 * whose name is taken (two deliveries in one millisecond) gets `-<uuid4>`
 * before its extension instead of overwriting an acknowledged file.
 *
 * Confinement: the operator's SAVE_TO_DISK_BASE_DIR is the root, each
 * namespace writes under `<root>/<namespace>/`, and a webhook's `base_dir` and
 * `path` are read inside that directory (an absolute `/data/x` means
 * `<root>/<namespace>/data/x`). `..` and NUL are refused at config time;
 * symlinks that lead out of the namespace directory are refused at write time.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, realpath, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { Type } from '@sinclair/typebox';
import { isValidName } from '../config/keys.js';
import type { Delivery } from '../delivery/types.js';
import { cwmTimestamp } from './s3.js';
import { ConfigError, UnavailableError } from '../errors.js';
import { defineOutput, errorCode, nothingToClose } from './types.js';

/** CWM decodes %-escapes once, and again if one remains; `..` is refused in the raw and the decoded form. */
function decoded(path: string): string {
  try {
    const once = decodeURIComponent(path);
    return once.includes('%') ? decodeURIComponent(once) : once;
  } catch {
    return path;
  }
}

function checkedPart(value: string, pointer: string, decode: boolean): string {
  const plain = decode ? decoded(value) : value;
  if (value.includes('..') || plain.includes('..')) throw new ConfigError(pointer, 'must not contain ".."');
  if (value.includes('\u0000') || plain.includes('\u0000')) throw new ConfigError(pointer, 'must not contain NUL');
  return plain;
}

/** `inner` read inside `root`: a leading "/" names root itself. */
function inside(root: string, inner: string): string {
  return resolve(root, `.${sep}${inner.replace(/^\/+/, '')}`);
}

function within(dir: string, root: string): boolean {
  const rel = relative(root, dir);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep));
}

/** The real path of `dir`'s deepest existing ancestor (or itself) and the part below it still to create. */
async function existingAncestor(dir: string): Promise<{ real: string; rest: string }> {
  const missing: string[] = [];
  let current = dir;
  for (;;) {
    try {
      return { real: await realpath(current), rest: missing.reverse().join(sep) };
    } catch (err) {
      const up = dirname(current);
      if (errorCode(err) !== 'ENOENT' || up === current) throw err;
      missing.push(basename(current));
      current = up;
    }
  }
}

const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `name` with `-<uuid4>` before its extension: the fallback when `name` is taken. */
function uniqueVariant(name: string): string {
  const ext = extname(name);
  return `${name.slice(0, name.length - ext.length)}-${randomUUID()}${ext}`;
}

async function linkNew(tmp: string, dir: string, name: string): Promise<void> {
  try {
    await link(tmp, join(dir, name));
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw err;
    await link(tmp, join(dir, uniqueVariant(name)));
  }
}

async function writeAtomically(dir: string, name: string, body: Buffer): Promise<void> {
  const tmp = join(dir, `.${randomUUID()}.tmp`);
  const fh = await open(tmp, WRITE_FLAGS, 0o600);
  try {
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await linkNew(tmp, dir, name);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await fsyncDir(dir);
}

const PLACEHOLDERS = /\{uuid\}|\{timestamp\}|\{webhook_id\}/g;

/** CWM's s3 filename rule, for the same placeholders: letters, digits, "_", "-", "." besides them, no "..". */
function checkTemplate(template: string, pointer: string): string {
  if (template.includes('..')) throw new ConfigError(pointer, 'must not contain ".."');
  if (!/^[a-zA-Z0-9_.-]*$/.test(template.replace(PLACEHOLDERS, ''))) throw new ConfigError(pointer, 'may hold only letters, digits, "_", "-", "." besides {uuid}, {timestamp} and {webhook_id}');
  // A name starting with "." would hide among the temp files; "{uuid}.txt" is CWM's own default.
  if (template.startsWith('.')) throw new ConfigError(pointer, 'must not start with "."');
  return template;
}

/** The file name of one delivery. {webhook_id} is a plain name (NAME_PATTERN), so the result stays one path segment. */
export function renderFilename(template: string, delivery: Delivery): string {
  return template.replace(PLACEHOLDERS, (p) => (p === '{uuid}' ? randomUUID() : p === '{timestamp}' ? cwmTimestamp(delivery.receivedAt) : delivery.webhookId));
}

export const saveToDiskOutput = defineOutput({
  name: 'save_to_disk',
  schema: Type.Object(
    {
      path: Type.String({ default: '.', description: 'directory under base_dir; an absolute path must lie inside base_dir' }),
      base_dir: Type.Optional(Type.String({ description: "read inside the namespace's directory under SAVE_TO_DISK_BASE_DIR; default: that directory" })),
      filename_template: Type.String({ minLength: 1, maxLength: 255, default: '{uuid}.txt', description: '{uuid} (random), {timestamp} (UTC, as s3), {webhook_id}; a taken name gets -<uuid> before its extension' }),
      filename_pattern: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "CWM's docs' name for filename_template (which wins)" })),
      create_dirs: Type.Optional(Type.Literal(true, { description: "CWM's docs; cwm always creates the directory" })),
    },
    { additionalProperties: false },
  ),
  bind(cfg, _spec, ctx) {
    const root = ctx.settings.saveToDiskBaseDir;
    if (root === undefined) throw new ConfigError('/module', 'save_to_disk is disabled: the operator has not set SAVE_TO_DISK_BASE_DIR');
    // Namespaces match NAME_PATTERN (keys.ts): one plain directory name; checked again, it is what confines the team.
    if (!isValidName(ctx.namespace)) throw new ConfigError('/module', 'save_to_disk needs a plain namespace name');
    const nsRoot = join(root, ctx.namespace);
    const base = inside(nsRoot, checkedPart(cfg.base_dir ?? '', '/module-config/base_dir', false));
    const plainPath = checkedPart(cfg.path, '/module-config/path', true);
    const dir = plainPath.startsWith('/') ? inside(nsRoot, plainPath) : inside(base, plainPath);
    if (!within(dir, base)) throw new ConfigError('/module-config/path', 'must lie inside base_dir');
    // filename_template has a default, so a CWM config's filename_pattern is used only when the template is the default.
    const named = cfg.filename_template === '{uuid}.txt' && cfg.filename_pattern !== undefined ? { t: cfg.filename_pattern, at: '/module-config/filename_pattern' } : { t: cfg.filename_template, at: '/module-config/filename_template' };
    const template = checkTemplate(named.t, named.at);

    return {
      async send(delivery: Delivery): Promise<void> {
        try {
          await mkdir(nsRoot, { recursive: true, mode: 0o700 });
          // Symlinks are judged now, not at config time: they may change after the config was read.
          const realRoot = await realpath(nsRoot);
          const escaped = new UnavailableError('save_to_disk directory leads outside its namespace directory (symlink); refused');
          // Judge what exists before creating the rest, or mkdir would follow a symlink out and create directories there.
          const { real, rest } = await existingAncestor(dir);
          if (!within(real, realRoot)) throw escaped;
          if (rest !== '') await mkdir(join(real, rest), { recursive: true, mode: 0o700 });
          const realDir = await realpath(dir);
          if (!within(realDir, realRoot)) throw escaped;
          await writeAtomically(realDir, renderFilename(template, delivery), delivery.rawBody);
        } catch (err) {
          if (err instanceof UnavailableError) throw err;
          throw new UnavailableError(`save_to_disk could not write the file (${errorCode(err)})`);
        }
      },
      close: nothingToClose,
    };
  },
});
