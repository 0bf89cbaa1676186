/**
 * The files a cell commits to in its receipt (`artifactsHash`):
 * - a cell tagged `ain:artifacts=<glob>` (one tag per glob, relative to the run's folder; `*`, `?`, `**`) commits
 *   to every file matching it when the cell ends, written by it or not;
 * - any other cell commits to the files under `outputs/` that it created or modified: those whose mtime lies
 *   between the kernel's busy and idle messages for it (the kernel's own clock; the same machine's for the local
 *   backend), give or take a margin for coarse file clocks, and that no earlier cell committed to in that version
 *   (`seen`: path -> mtime:size). Cells run one after another, so the windows barely touch.
 * Links are not followed and nothing outside the run's folder is read.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { IArtifact } from '../core/receipt.js';

/** The tag prefix that declares a cell's artifacts. */
export const ARTIFACTS_TAG = 'ain:artifacts=';

/** Bounds of what a cell may commit to. */
export interface IArtifactLimits {
  /** Files larger than this are skipped (and reported). Default 256 MiB. */
  maxFileBytes: number;
  /** At most this many files per cell. Default 1,000. */
  maxFiles: number;
}

/** A collected artifact, with its bytes (to store by hash). */
export interface ICollectedArtifact extends IArtifact {
  bytes: Uint8Array;
}

/** What a cell committed to, and what it could not (too large, too many). */
export interface IArtifactScan {
  artifacts: ICollectedArtifact[];
  skipped: string[];
}

const DEFAULT_LIMITS: IArtifactLimits = { maxFileBytes: 256 * 1024 * 1024, maxFiles: 1000 };
// Folders never scanned: the kernel's own state and checkpoints, not results.
const SKIPPED_DIRS = new Set(['.ipynb_checkpoints', '__pycache__', '.git']);

/** Globs declared by a cell's tags. */
export function artifactGlobs(tags: readonly string[]): string[] {
  return tags
    .filter(t => t.startsWith(ARTIFACTS_TAG))
    .map(t => t.slice(ARTIFACTS_TAG.length).trim())
    .filter(Boolean);
}

/** A glob as a regular expression over POSIX paths relative to the run's folder. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  const g = glob.replace(/^\.\//, '');
  for (let i = 0; i < g.length; i++) {
    const ch = g[i];
    if (ch === '*' && g[i + 1] === '*') {
      // `**/` matches zero or more folders; a trailing `**` matches everything below.
      if (g[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (ch === '*') {
      re += '[^/]*';
    } else if (ch === '?') {
      re += '[^/]';
    } else {
      re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/**
 * The artifacts of one cell: the files matching its `globs`, or when it declares none, the files under
 * `outputs/` modified within [from, to] (ms).
 */
export async function collectArtifacts(
  workDir: string,
  globs: readonly string[],
  window: { from: number; to: number; seen?: Map<string, string> },
  limits: Partial<IArtifactLimits> = {}
): Promise<IArtifactScan> {
  const { maxFileBytes, maxFiles } = { ...DEFAULT_LIMITS, ...limits };
  const patterns = globs.map(globToRegExp);
  const root = patterns.length ? workDir : join(workDir, 'outputs');
  const files = await Private.walk(root, maxFiles * 10);
  const artifacts: ICollectedArtifact[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    const path = relative(workDir, file.path).split(sep).join('/');
    const version = `${file.mtimeMs}:${file.size}`;
    const chosen = patterns.length
      ? patterns.some(p => p.test(path))
      : file.mtimeMs >= window.from && file.mtimeMs <= window.to && window.seen?.get(path) !== version;
    if (!chosen) {
      continue;
    }
    if (!patterns.length) {
      window.seen?.set(path, version);
    }
    if (file.size > maxFileBytes || artifacts.length >= maxFiles) {
      skipped.push(path);
      continue;
    }
    const bytes = await fs.readFile(file.path).catch(() => undefined);
    if (!bytes) {
      continue; // deleted between the listing and now
    }
    const sha256 = '0x' + createHash('sha256').update(bytes).digest('hex');
    artifacts.push({ path, size: bytes.length, sha256, bytes });
  }
  artifacts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { artifacts, skipped };
}

namespace Private {
  export interface IFile {
    path: string;
    size: number;
    mtimeMs: number;
  }

  /** Regular files below `root` (links not followed), at most `max`. A missing root has no files. */
  export async function walk(root: string, max: number): Promise<IFile[]> {
    const out: IFile[] = [];
    const stack = [root];
    while (stack.length && out.length < max) {
      const dir = stack.pop()!;
      const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('.ain-')) {
          stack.push(path);
        } else if (entry.isFile()) {
          const stat = await fs.lstat(path).catch(() => undefined);
          if (stat) {
            out.push({ path, size: stat.size, mtimeMs: stat.mtimeMs });
          }
        }
      }
    }
    return out;
  }
}
