/**
 * Environment detection: which files describe the environment a notebook runs in, what a provider will install
 * from them, what it refuses, and a hash over exactly the files that count.
 *
 * The rules are repo2docker's (read from its buildpacks), so a folder that launches on Binder is read the same way
 * here: a `binder/` or `.binder/` folder, when present, is the only place read; then the first of `Dockerfile`,
 * Julia (`Project.toml`), `default.nix`, R (`runtime.txt` r-..., `DESCRIPTION`), `environment.yml`,
 * `Pipfile(.lock)`, Python (`runtime.txt`, `setup.py`, `pyproject.toml`, `requirements.txt`) decides; `apt.txt`,
 * `postBuild` and `start` apply to all but a Dockerfile. A provider builds a uv venv from PyPI, so whatever it
 * cannot honour is refused with a reason and advice, and every file present but not read is listed as ignored:
 * nothing is dropped silently.
 */
import { canonicalHash } from './canonical-json.js';
import { readRuntime } from './environment-python.js';
import {
  EnvironmentFolder,
  EnvironmentKind,
  EnvironmentReport,
  EnvironmentRoot,
  RefusalRule,
  TOP_ONLY_NAMES
} from './environment-report.js';
import { commonFiles, condaBuildPack, pipenvBuildPack, pythonBuildPack } from './environment-rules.js';
import { makeError } from './errors.js';
import { sha256 } from './hash.js';

export type {
  CondaInstall,
  EnvironmentInstall,
  EnvironmentKind,
  EnvironmentReport,
  EnvironmentRoot,
  IgnoredFile,
  IgnoredRule,
  Refusal,
  RefusalRule,
  Requirement
} from './environment-report.js';

/** Every file name detection reads, in repo2docker's order of precedence. */
export const ENVIRONMENT_FILE_NAMES: readonly string[] = [
  'Dockerfile',
  'Project.toml',
  'JuliaProject.toml',
  'REQUIRE',
  'default.nix',
  'runtime.txt',
  'DESCRIPTION',
  'install.R',
  'environment.yml',
  'environment.yaml',
  'Pipfile',
  'Pipfile.lock',
  'setup.py',
  'pyproject.toml',
  'requirements.txt',
  'apt.txt',
  'postBuild',
  'start'
];

/**
 * True for every path detection reads: an environment file name in the notebook's folder, or directly in its
 * `binder/` or `.binder/` folder (except `setup.py`, `pyproject.toml`, `DESCRIPTION`, read only at the top).
 * Use it to pick the files to pass to `detectEnvironment` and to put in a bundle.
 */
export function isEnvironmentPath(path: string): boolean {
  const slash = path.indexOf('/');
  const folder = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  return (
    ENVIRONMENT_FILE_NAMES.includes(name) &&
    (folder === '' || ((folder === 'binder/' || folder === '.binder/') && !TOP_ONLY_NAMES.has(name)))
  );
}

/**
 * Detects the environment described by `files` (POSIX paths relative to the notebook's folder -> bytes; other
 * files are allowed and not read). A binder folder is present when any path lies in it.
 * Throws ENV_CONFLICTING_BINDER_FOLDERS when both `binder/` and `.binder/` exist, ENV_INVALID_FILE (file and line)
 * for a file that is malformed.
 */
export function detectEnvironment(files: ReadonlyMap<string, Uint8Array>): EnvironmentReport {
  return Private.detect(new EnvironmentFolder(files, Private.binderRoot(files)));
}

namespace Private {
  export function binderRoot(files: ReadonlyMap<string, Uint8Array>): EnvironmentRoot {
    const paths = [...files.keys()];
    const binder = paths.some(p => p.startsWith('binder/'));
    const dotBinder = paths.some(p => p.startsWith('.binder/'));
    if (binder && dotBinder) {
      throw makeError(
        'ENV_CONFLICTING_BINDER_FOLDERS',
        'Both a binder/ and a .binder/ folder exist, and only one may describe the environment (repo2docker ' +
          'refuses this too). Remove one of the two folders.'
      );
    }
    return dotBinder ? '.binder/' : binder ? 'binder/' : '';
  }

  export function detect(folder: EnvironmentFolder): EnvironmentReport {
    const { files, root, findings } = folder;
    if (root) {
      for (const name of ENVIRONMENT_FILE_NAMES.filter(n => files.has(n))) {
        findings.ignore(
          name,
          'outside-binder',
          `a ${root} folder exists, and then only it is read (repo2docker's rule): move ${name} into ${root} or delete it`
        );
      }
    }
    const kind = decide(folder);
    for (const name of ENVIRONMENT_FILE_NAMES.filter(n => folder.has(n) && !folder.handled.has(n))) {
      folder.ignore(name, 'superseded', supersededReason(folder, name, kind));
    }
    const counted = [...folder.counted].map(name => folder.path(name)).sort();
    return {
      kind,
      root,
      files: counted,
      install: folder.install,
      refused: findings.refused,
      ignored: findings.ignored,
      // canonicalHash of [{ path, sha256 }] over the sorted counted files: the hash over the files' bytes.
      environmentHash: canonicalHash(counted.map(path => ({ path, sha256: sha256(files.get(path)!) })))
    };
  }

  /** repo2docker's precedence: the first build pack whose files are present decides. */
  function decide(folder: EnvironmentFolder): EnvironmentKind {
    if (folder.has('Dockerfile')) {
      unsupported(folder, 'dockerfile', ['Dockerfile'], 'a Dockerfile', 'providers do not run Docker builds');
      return 'unsupported'; // a Dockerfile replaces everything else, apt.txt and postBuild included
    }
    const julia = ['Project.toml', 'JuliaProject.toml', 'REQUIRE'].filter(n => folder.has(n));
    const runtime =
      julia.length || folder.has('default.nix') || !folder.has('runtime.txt')
        ? null
        : readRuntime(folder.path('runtime.txt'), folder.bytes('runtime.txt'));
    let kind: EnvironmentKind = 'unsupported';
    if (julia.length) {
      unsupported(folder, 'julia', julia, 'a Julia environment', 'providers build Python environments only');
    } else if (folder.has('default.nix')) {
      unsupported(folder, 'nix', ['default.nix'], 'a Nix environment', 'providers do not run Nix');
    } else if (runtime?.name === 'r' || folder.has('DESCRIPTION')) {
      const r = ['runtime.txt', 'DESCRIPTION', 'install.R'].filter(n => folder.has(n));
      unsupported(folder, 'r', r, 'an R environment', 'providers build Python environments only');
    } else {
      const conda = ['environment.yml', 'environment.yaml'].find(n => folder.has(n));
      if (conda) {
        condaBuildPack(folder, conda);
        kind = 'conda';
      } else if (
        (folder.has('Pipfile') || folder.has('Pipfile.lock')) &&
        (!runtime || runtime.name === 'python')
      ) {
        pipenvBuildPack(folder);
        kind = 'pipenv';
      } else {
        kind = pythonBuildPack(folder, runtime) ? 'python' : 'none';
      }
      if (folder.has('install.R') && !folder.handled.has('install.R')) {
        folder.ignore(
          'install.R',
          'not-installed',
          'install.R is run only in an R environment, and this one has no R'
        );
      }
    }
    commonFiles(folder);
    return kind;
  }

  function unsupported(
    folder: EnvironmentFolder,
    rule: RefusalRule,
    names: string[],
    what: string,
    why: string
  ): void {
    names.forEach(n => folder.count(n));
    folder.decidedBy = folder.path(names[0]);
    folder.findings.refuse({
      file: folder.decidedBy,
      rule,
      reason: `${folder.decidedBy} asks for ${what}, and ${why}; nothing in this environment is installed`,
      advice:
        'Describe a Python environment instead (requirements.txt or environment.yml), or run this notebook elsewhere.'
    });
  }

  function supersededReason(folder: EnvironmentFolder, name: string, kind: EnvironmentKind): string {
    const decider = folder.decidedBy || 'another file';
    if (kind === 'unsupported') {
      return `${name} is not read: ${decider} decides the environment, and it is refused as a whole`;
    }
    const hints: Record<string, Partial<Record<EnvironmentKind, string>>> = {
      'requirements.txt': {
        conda: ': list its packages under "- pip:" in the dependencies',
        pipenv: ': list its packages in the Pipfile'
      },
      'runtime.txt': {
        conda: ': put python=3.x in the dependencies',
        pipenv: ': set python_version under [requires]'
      }
    };
    return `${name} is not read: ${decider} decides the environment (repo2docker's precedence)${hints[name]?.[kind] ?? ''}`;
  }
}
