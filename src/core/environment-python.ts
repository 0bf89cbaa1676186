/**
 * Readers of the Python build pack's own files: `runtime.txt` (as repo2docker parses it), the Python version rule
 * shared by every build pack, the [project] table of `pyproject.toml`, and the reading of TOML files (smol-toml)
 * and their values.
 */
import { parse, TomlError, TomlTable, TomlValue } from 'smol-toml';
import { Findings, invalidFile, MAX_PARSED_FILE_BYTES, readText } from './environment-report.js';

export type { TomlTable, TomlValue };

/** `runtime.txt` as repo2docker parses it: `name-version`, `name-version-yyyy-mm-dd` or `name-yyyy-mm-dd`. */
export interface Runtime {
  name: string;
  version: string | null;
}

/** Parses `runtime.txt`; malformed content is ENV_INVALID_FILE, as repo2docker fails on it too. */
export function readRuntime(file: string, bytes: Uint8Array): Runtime {
  const text = readText(file, bytes).trim();
  const parts = text.split('-');
  if (![2, 4, 5].includes(parts.length) || parts.some(p => !p)) {
    throw invalidFile(file, 1, `"${text}" is not name-version (write e.g. python-3.11)`);
  }
  if (parts.length >= 4 && !/^\d{4}-\d{2}-\d{2}$/.test(parts.slice(-3).join('-'))) {
    throw invalidFile(file, 1, `"${text}" does not end with a yyyy-mm-dd date`);
  }
  return { name: parts[0], version: parts.length === 2 || parts.length === 5 ? parts[1] : null };
}

/**
 * `major.minor` of a Python version as repo2docker reads it (`3.11.4` -> `3.11`; `3` -> null, the default
 * Python 3). Anything but Python 3 is refused.
 */
export function pythonVersion(raw: string, file: string, findings: Findings): string | null {
  const parts = raw.split('.').filter(p => p);
  if (!parts.length || parts.some(p => !/^\d+$/.test(p))) {
    throw invalidFile(file, undefined, `"${raw}" is not a Python version`);
  }
  if (parts[0] !== '3') {
    findings.refuse({
      file,
      rule: 'python2',
      reason: `Python ${raw} is asked for, and providers run Python 3 only`,
      advice: 'Port the notebook to Python 3 and ask for python-3.x.'
    });
    return null;
  }
  return parts.length > 1 ? `${parts[0]}.${parts[1]}` : null;
}

/** What `pyproject.toml` says about the environment. */
export interface PyProject {
  /** Has a [project] table; without one the file describes no environment. */
  hasProject: boolean;
  /** Has [project] and [build-system]: repo2docker would `pip install .` it. */
  isPackage: boolean;
  dependencies: string[];
  dynamicDependencies: boolean;
  requiresPython: string | null;
}

/** Reads the [project] table of `pyproject.toml`. */
export function readPyProject(file: string, bytes: Uint8Array): PyProject {
  const doc = readToml(file, bytes);
  const hasProject = Object.hasOwn(doc, 'project');
  const project = tomlTable(doc.project, file, '[project]');
  const dynamic = tomlStrings(project.dynamic, file, 'project.dynamic');
  const requiresPython = project['requires-python'];
  if (requiresPython !== undefined && typeof requiresPython !== 'string') {
    throw invalidFile(file, undefined, 'project.requires-python must be a string');
  }
  return {
    hasProject,
    isPackage: hasProject && Object.hasOwn(doc, 'build-system'),
    dependencies: tomlStrings(project.dependencies, file, 'project.dependencies'),
    dynamicDependencies: dynamic.includes('dependencies'),
    requiresPython: requiresPython ?? null
  };
}

/**
 * Parses a TOML environment file; broken TOML is ENV_INVALID_FILE naming the line. Tables have a null prototype,
 * so keys such as `__proto__` are plain keys.
 */
export function readToml(file: string, bytes: Uint8Array): TomlTable {
  const text = readText(file, bytes, MAX_PARSED_FILE_BYTES);
  try {
    return parse(text);
  } catch (e) {
    if (!(e instanceof TomlError)) {
      throw e;
    }
    // An error at the very end (a table left open) names the last line written, not the empty one after it.
    const line = Math.min(e.line, text.trimEnd().split('\n').length);
    const what = e.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
    throw invalidFile(file, line, `${what} (TOML)`);
  }
}

/** A TOML value that must be an array of strings (absent: empty); otherwise ENV_INVALID_FILE naming `key`. */
export function tomlStrings(value: TomlValue | undefined, file: string, key: string): string[] {
  if (value === undefined) {
    return [];
  }
  if (!Array.isArray(value) || value.some(v => typeof v !== 'string')) {
    throw invalidFile(file, undefined, `${key} must be an array of strings`);
  }
  return value as string[];
}

/** A value (TOML, or parsed JSON) that must be a table (absent: empty); otherwise ENV_INVALID_FILE naming `key`. */
export function tomlTable(value: unknown, file: string, key: string): TomlTable {
  if (value === undefined || value === null) {
    return Object.create(null) as TomlTable;
  }
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Date) {
    throw invalidFile(file, undefined, `${key} must be a table`);
  }
  return value as TomlTable;
}
