/**
 * The shape of an environment report, and the helpers the file readers share: strict text decoding, the
 * ENV_INVALID_FILE error, and the collector of what is refused or ignored.
 *
 * Refusals and ignored files carry a stable `rule` (machine-readable, recorded in bundle manifests) next to their
 * human text (`reason`, `advice`), so the text can improve without changing any hash.
 */
import { AinError, makeError } from './errors.js';
import { fromUtf8, Hex32 } from './hash.js';

/** How the environment will be built: `none` = no environment file, the provider's default Python 3. */
export type EnvironmentKind = 'none' | 'python' | 'conda' | 'pipenv' | 'unsupported';

/** The folder environment files are read from: a `binder/` or `.binder/` folder wins over the notebook's folder. */
export type EnvironmentRoot = '' | 'binder/' | '.binder/';

/** Why something is refused: each rule is a thing a provider (a uv venv reaching only PyPI) cannot honour. */
export type RefusalRule =
  | 'dockerfile'
  | 'julia'
  | 'nix'
  | 'r'
  | 'r-script'
  | 'apt'
  | 'post-build'
  | 'start'
  | 'runtime'
  | 'python2'
  | 'requirement-url'
  | 'requirement-local'
  | 'requirement-editable'
  | 'requirement-index'
  | 'requirement-include'
  | 'requirement-option'
  | 'local-package'
  | 'pyproject-dynamic'
  | 'conda-key'
  | 'unreadable';

/**
 * Why a present environment file is not read: `outside-binder` (a binder folder exists), `superseded` (a file of
 * higher precedence decides the environment, repo2docker's rule), `not-installed` (read, but what it lists is
 * not installed, as repo2docker would not either).
 */
export type IgnoredRule = 'outside-binder' | 'superseded' | 'not-installed';

/** One package to install from PyPI. */
export interface Requirement {
  /** The requirement as written (comments and line continuations removed), e.g. `pandas>=2,<3`. */
  requirement: string;
  /** The project name normalized per PEP 503 (lowercase, runs of `-_.` turned to `-`). */
  name: string;
  /** The environment file it comes from, e.g. `binder/requirements.txt`. */
  file: string;
  /** Its 1-based line, where the file format has lines worth naming. */
  line?: number;
}

/** What `environment.yml` asks conda for, as written. */
export interface CondaInstall {
  channels: string[];
  /** Conda match specs (`numpy=1.26`, `python=3.11`), without the nested `pip:` list. */
  dependencies: string[];
}

/** What the provider will install. */
export interface EnvironmentInstall {
  /** `major.minor` of the Python asked for; null = the provider's default Python 3. */
  python: string | null;
  /** `[project].requires-python` of `pyproject.toml`, as written, when there is one. */
  requiresPython: string | null;
  /** PyPI requirements: `requirements.txt`, the `pip:` list of `environment.yml`, `Pipfile(.lock)`, `pyproject.toml`. */
  requirements: Requirement[];
  /** Conda packages, for kind `conda` only. */
  conda: CondaInstall | null;
}

/** Something the environment asks for that a provider will not do, and what to do instead. */
export interface Refusal {
  file: string;
  line?: number;
  rule: RefusalRule;
  reason: string;
  advice: string;
  /** What is not installed because of it, e.g. the packages of `apt.txt`. */
  items?: string[];
}

/** An environment file that is present but not read, and why. */
export interface IgnoredFile {
  file: string;
  rule: IgnoredRule;
  reason: string;
}

/** The result of environment detection. */
export interface EnvironmentReport {
  kind: EnvironmentKind;
  root: EnvironmentRoot;
  /** The environment files that count (read, whether honoured or refused), sorted; the hash covers exactly these. */
  files: string[];
  install: EnvironmentInstall;
  refused: Refusal[];
  ignored: IgnoredFile[];
  /** canonicalHash of `[{ path, sha256 }]` over `files`, sorted by path. */
  environmentHash: Hex32;
}

/** Names repo2docker reads only in the top folder, and only when there is no binder folder. */
export const TOP_ONLY_NAMES: ReadonlySet<string> = new Set(['setup.py', 'pyproject.toml', 'DESCRIPTION']);

/** Collects refusals and ignored files while the readers run. */
export class Findings {
  readonly refused: Refusal[] = [];
  readonly ignored: IgnoredFile[] = [];

  refuse(refusal: Refusal): void {
    this.refused.push(refusal);
  }

  ignore(file: string, rule: IgnoredRule, reason: string): void {
    this.ignored.push({ file, rule, reason });
  }
}

/**
 * The folder detection reads (the notebook's, or its binder folder) and what it decided so far: which files count,
 * which were dealt with, what will be installed. Names are relative to the folder; reports carry full paths.
 */
export class EnvironmentFolder {
  readonly findings = new Findings();
  /** Names of the files that count (read, honoured or refused). */
  readonly counted = new Set<string>();
  /** Names counted or reported as ignored: every other present file is reported as superseded. */
  readonly handled = new Set<string>();
  readonly install: EnvironmentInstall = {
    python: null,
    requiresPython: null,
    requirements: [],
    conda: null
  };
  /** The path of the file that decides the environment, named in the reasons of superseded files. */
  decidedBy = '';

  constructor(
    readonly files: ReadonlyMap<string, Uint8Array>,
    readonly root: EnvironmentRoot
  ) {}

  path(name: string): string {
    return this.root + name;
  }

  has(name: string): boolean {
    return this.files.has(this.path(name)) && (this.root === '' || !TOP_ONLY_NAMES.has(name));
  }

  bytes(name: string): Uint8Array {
    return this.files.get(this.path(name))!;
  }

  count(name: string): void {
    this.counted.add(name);
    this.handled.add(name);
  }

  ignore(name: string, rule: IgnoredRule, reason: string): void {
    this.findings.ignore(this.path(name), rule, reason);
    this.handled.add(name);
  }

  /** Counts `name` and refuses it. */
  refuse(name: string, rule: RefusalRule, reason: string, advice: string, items?: string[]): void {
    this.count(name);
    this.findings.refuse({ file: this.path(name), rule, reason, advice, ...(items ? { items } : {}) });
  }
}

/** ENV_INVALID_FILE naming the file and, when known, the line. */
export function invalidFile(file: string, line: number | undefined, what: string): AinError {
  const where = line === undefined ? file : `${file} line ${line}`;
  return makeError(
    'ENV_INVALID_FILE',
    `${where}: ${what}. Fix the file (or delete it) and try again.`,
    line === undefined ? { file } : { file, line }
  );
}

/**
 * Valid syntax whose meaning a reader here does not know (a nested list where `environment.yml` lists packages...).
 * The caller refuses the whole file with rule `unreadable` rather than guess what it means.
 */
export class UnreadableSyntax extends Error {
  constructor(
    readonly line: number,
    message: string
  ) {
    super(message);
    this.name = 'UnreadableSyntax';
  }
}

/** The largest TOML or YAML environment file parsed (256 KiB); real ones are a few kilobytes. */
export const MAX_PARSED_FILE_BYTES = 1 << 18;

/**
 * Decodes an environment file as strict UTF-8, drops a BOM and turns CRLF/CR line endings into LF; a file larger
 * than `maxBytes` is ENV_INVALID_FILE.
 */
export function readText(file: string, bytes: Uint8Array, maxBytes = Infinity): string {
  if (bytes.length > maxBytes) {
    throw invalidFile(
      file,
      undefined,
      `the file has ${bytes.length} bytes, more than the ${maxBytes} an environment file may have`
    );
  }
  let text: string;
  try {
    text = fromUtf8(bytes);
  } catch {
    throw invalidFile(file, undefined, 'the file is not UTF-8 text');
  }
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

/** Turns `UnreadableSyntax` from `read` into an `unreadable` refusal of `file`; returns null then. */
export function readOrRefuse<T>(file: string, findings: Findings, read: () => T): T | null {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof UnreadableSyntax)) {
      throw e;
    }
    findings.refuse({
      file,
      line: e.line,
      rule: 'unreadable',
      reason: `${file} line ${e.line}: ${e.message}, which this reader does not interpret, so nothing in the file is installed`,
      advice:
        'Write the file in its plain form (simple lists of quoted or unquoted strings) so it can be read exactly.'
    });
    return null;
  }
}
