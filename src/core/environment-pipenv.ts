/**
 * Reads `Pipfile` (TOML) and `Pipfile.lock` (JSON) as repo2docker's pipenv build does: the lock when there is one
 * (`pipenv install --ignore-pipfile --dev`), else the Pipfile; packages and dev-packages alike.
 */
import { Findings, RefusalRule, Requirement, invalidFile, readText } from './environment-report.js';
import {
  TomlTable,
  TomlValue,
  pythonVersion,
  readToml,
  tomlStrings,
  tomlTable
} from './environment-python.js';
import { readRequirement } from './environment-requirements.js';

const PYPI_INDEX = /^https:\/\/(?:pypi\.org|pypi\.python\.org)\/simple\/?$/;

/** What `Pipfile` or `Pipfile.lock` asks for. */
export interface Pipenv {
  python: string | null;
  requirements: Requirement[];
}

/**
 * Reads `Pipfile.lock` (JSON) when present, else `Pipfile` (TOML), as repo2docker's pipenv runs do: packages and
 * dev-packages, sources limited to PyPI, Python from `requires` (the lock first, then the Pipfile).
 */
export function readPipenv(
  pipfile: { file: string; bytes: Uint8Array } | null,
  lock: { file: string; bytes: Uint8Array } | null,
  findings: Findings
): Pipenv {
  const fromLock = lock ? Private.parseLock(lock.file, lock.bytes) : null;
  const fromPipfile = pipfile ? readToml(pipfile.file, pipfile.bytes) : null;
  // With a lock, pipenv installs exactly the lock (--ignore-pipfile); the Pipfile then only names the Python.
  const packagesFrom =
    lock && fromLock
      ? {
          file: lock.file,
          doc: fromLock,
          sections: ['default', 'develop'],
          sources: tomlTable(fromLock._meta, lock.file, '_meta').sources
        }
      : pipfile && fromPipfile
        ? {
            file: pipfile.file,
            doc: fromPipfile,
            sections: ['packages', 'dev-packages'],
            sources: fromPipfile.source
          }
        : null;
  const requirements: Requirement[] = [];
  if (packagesFrom) {
    const { file, doc, sections } = packagesFrom;
    const sources = Private.sources(packagesFrom.sources, file, findings);
    for (const section of sections) {
      for (const [name, entry] of Object.entries(tomlTable(doc[section], file, section))) {
        const text = Private.pipenvRequirement(name, entry, sources, file, findings);
        const requirement = text === null ? null : readRequirement(text, file, undefined, findings);
        if (requirement) {
          requirements.push(requirement);
        }
      }
    }
  }
  let python: string | null = null;
  const requires: Array<[string, TomlValue | undefined]> = [];
  if (lock && fromLock) {
    requires.push([lock.file, tomlTable(fromLock._meta, lock.file, '_meta').requires]);
  }
  if (pipfile && fromPipfile) {
    requires.push([pipfile.file, fromPipfile.requires]);
  }
  for (const [file, value] of requires) {
    const table = tomlTable(value, file, 'requires');
    const raw = table.python_full_version ?? table.python_version;
    const version = typeof raw === 'string' ? /\d+(?:\.\d+)*/.exec(raw)?.[0] : undefined;
    if (version) {
      python = pythonVersion(version, file, findings);
      break;
    }
  }
  return { python, requirements };
}

namespace Private {
  const MARKER_KEYS = new Set([
    'os_name',
    'sys_platform',
    'platform_machine',
    'platform_python_implementation',
    'platform_release',
    'platform_system',
    'platform_version',
    'python_version',
    'python_full_version',
    'implementation_name',
    'implementation_version'
  ]);

  export function parseLock(file: string, bytes: Uint8Array): TomlTable {
    const text = readText(file, bytes);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      const at = /position (\d+)/.exec((e as Error).message);
      const line = at ? text.slice(0, Number(at[1])).split('\n').length : undefined;
      throw invalidFile(file, line, `not valid JSON (${(e as Error).message})`);
    }
    return tomlTable(doc, file, 'the lock file');
  }

  /** Index name -> URL; every source that is not PyPI is refused (its packages are refused where they use it). */
  export function sources(
    value: TomlValue | undefined,
    file: string,
    findings: Findings
  ): Map<string, string> {
    const byName = new Map<string, string>();
    for (const source of value === undefined ? [] : Array.isArray(value) ? value : [value]) {
      const { name, url } = tomlTable(source, file, 'source');
      if (typeof url !== 'string') {
        throw invalidFile(file, undefined, 'every source needs a url');
      }
      byName.set(typeof name === 'string' ? name : url, url);
      if (!PYPI_INDEX.test(url)) {
        findings.refuse({
          file,
          rule: 'requirement-index',
          reason: `the package index ${url} is not PyPI, and a provider reaches only PyPI`,
          advice: 'Remove the source and use packages published on PyPI.'
        });
      }
    }
    return byName;
  }

  /** A Pipfile or lock entry as a PEP 508 requirement line, or null when it is refused. */
  export function pipenvRequirement(
    name: string,
    entry: TomlValue,
    sources: Map<string, string>,
    file: string,
    findings: Findings
  ): string | null {
    const spec: TomlTable =
      typeof entry === 'string' ? { version: entry } : tomlTable(entry, file, `package ${name}`);
    const refuse = (rule: RefusalRule, reason: string, advice: string): null => {
      findings.refuse({ file, rule, reason: `${name}: ${reason}`, advice });
      return null;
    };
    for (const key of ['git', 'hg', 'svn', 'bzr', 'file']) {
      if (Object.hasOwn(spec, key)) {
        return refuse(
          'requirement-url',
          `installs from ${key}, but a provider reaches only PyPI`,
          'Require a version published on PyPI.'
        );
      }
    }
    if (Object.hasOwn(spec, 'path') || Object.hasOwn(spec, 'editable')) {
      return refuse(
        'requirement-local',
        'installs a local path, which a provider does not build',
        'Require a version published on PyPI.'
      );
    }
    const index = spec.index;
    // Without [[source]], pipenv's one index is PyPI, named "pypi".
    const url =
      typeof index === 'string'
        ? (sources.get(index) ?? (index === 'pypi' ? 'https://pypi.org/simple' : ''))
        : null;
    if (url !== null && !PYPI_INDEX.test(url)) {
      return refuse(
        'requirement-index',
        `comes from the index ${index}, which is not PyPI`,
        'Require a version published on PyPI.'
      );
    }
    let version = '';
    let extras = '';
    const markers: string[] = [];
    for (const [key, value] of Object.entries(spec)) {
      if (key === 'version' && typeof value === 'string') {
        version = value === '*' ? '' : value;
      } else if (key === 'extras') {
        extras = `[${tomlStrings(value, file, `${name}.extras`).join(',')}]`;
      } else if (key === 'markers' && typeof value === 'string') {
        markers.push(`(${value})`);
      } else if (MARKER_KEYS.has(key) && typeof value === 'string') {
        markers.push(`${key} ${value}`);
      } else if (key !== 'hashes' && key !== 'index') {
        return refuse('requirement-option', `the key ${key} is not honoured`, 'Remove the key.');
      }
    }
    const text = name + extras + version;
    return markers.length ? `${text}; ${markers.join(' and ')}` : text;
  }
}
