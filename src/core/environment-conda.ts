/**
 * Reads `environment.yml` (conda) with the `yaml` library, and honours only what it can honour exactly.
 *
 * A conda environment file is a mapping of a few keys (`name`, `channels`, `dependencies`, `prefix`, `variables`)
 * whose `channels` and `dependencies` are lists of strings, the dependencies with at most one `pip:` mapping of a
 * list of strings. Any YAML that gives that data is read (anchors and aliases, quotes, flow or block style);
 * broken YAML, unknown tags or an unresolved alias are ENV_INVALID_FILE with the line, and other shapes (a nested
 * list, a mapping other than `pip:`, a number where a package goes) make the whole file refused with the line.
 */
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { pythonVersion } from './environment-python.js';
import { readRequirement } from './environment-requirements.js';
import {
  CondaInstall,
  Findings,
  MAX_PARSED_FILE_BYTES,
  Requirement,
  UnreadableSyntax,
  invalidFile,
  readOrRefuse,
  readText
} from './environment-report.js';

/** What `environment.yml` asks for. */
export interface CondaEnvironment {
  conda: CondaInstall;
  requirements: Requirement[];
  python: string | null;
}

// repo2docker's rule for the Python of a conda environment: the first dependency matching this.
const PYTHON = /^python\s*=+\s*([\d.]*)/;

/** Reads `environment.yml`; null when it is refused as unreadable (recorded in `findings`). */
export function readCondaEnvironment(
  file: string,
  bytes: Uint8Array,
  findings: Findings
): CondaEnvironment | null {
  const doc = readOrRefuse(file, findings, () =>
    Private.readDocument(file, readText(file, bytes, MAX_PARSED_FILE_BYTES))
  );
  if (!doc) {
    return null;
  }
  for (const { key, line } of doc.otherKeys) {
    findings.refuse({
      file,
      line,
      rule: 'conda-key',
      reason:
        key === 'variables'
          ? 'environment variables set by `variables:` are not set by a provider'
          : `the key ${key} is not part of a conda environment file, and it is not honoured`,
      advice:
        key === 'variables'
          ? 'Set the variables in the notebook itself (os.environ) instead.'
          : 'Remove the key; keep name, channels and dependencies.'
    });
  }
  const dependencies: string[] = [];
  let python: string | null = null;
  let pythonSeen = false;
  for (const { text, line } of doc.dependencies) {
    if (text.includes('://') || /^[.~/\\]|\\/.test(text)) {
      findings.refuse({
        file,
        line,
        rule: text.includes('://') ? 'requirement-url' : 'requirement-local',
        reason: `${text}: a conda package from a URL or a local path is not installed by a provider`,
        advice: 'Ask for the package by name from a channel.'
      });
      continue;
    }
    dependencies.push(text);
    const match = pythonSeen ? null : PYTHON.exec(text);
    if (match) {
      pythonSeen = true;
      python = match[1] ? pythonVersion(match[1], file, findings) : null;
    }
  }
  const requirements: Requirement[] = [];
  for (const { text, line } of doc.pip) {
    const requirement = readRequirement(text, file, line, findings);
    if (requirement) {
      requirements.push(requirement);
    }
  }
  return { conda: { channels: doc.channels.map(c => c.text), dependencies }, requirements, python };
}

namespace Private {
  interface Scalar {
    text: string;
    line: number;
  }

  export interface Document {
    channels: Scalar[];
    dependencies: Scalar[];
    pip: Scalar[];
    otherKeys: Array<{ key: string; line: number }>;
  }

  /** A list item: its node (an alias resolved) and the line where it is written. */
  interface Item {
    node: unknown;
    line: number;
  }

  // Aliases are resolved one list item at a time (never expanded as a whole), and only this many.
  const MAX_ALIASES = 20;

  export function readDocument(file: string, text: string): Document {
    const lines = new LineCounter();
    const yaml = parseDocument(text, {
      lineCounter: lines,
      prettyErrors: false,
      uniqueKeys: true,
      schema: 'core',
      customTags: [],
      resolveKnownTags: false
    });
    // An error at the very end (a quote left open) names the last line written, not the empty one after it.
    const lineAt = (offset: number) => lines.linePos(Math.min(offset, text.trimEnd().length)).line;
    const lineOf = (node: unknown, fallback: number) =>
      isNode(node) && node.range ? lineAt(node.range[0]) : fallback;
    const invalid = (line: number, what: string) => invalidFile(file, line, `${what} (YAML)`);
    const problem = yaml.errors[0] ?? yaml.warnings[0];
    if (problem) {
      throw invalid(
        lineAt(problem.pos[0]),
        problem.code === 'MULTIPLE_DOCS'
          ? 'a second document starts here, and conda reads one'
          : problem.message
      );
    }
    let aliases = 0;
    const resolve = (node: unknown, line: number): unknown => {
      if (!isAlias(node)) {
        return node;
      }
      const target = ++aliases <= MAX_ALIASES ? node.resolve(yaml) : undefined;
      if (!target) {
        throw invalid(
          line,
          aliases > MAX_ALIASES ? `more than ${MAX_ALIASES} aliases` : `*${node.source} has no anchor`
        );
      }
      return target;
    };
    const isEmpty = (node: unknown) =>
      node === null || node === undefined || (isScalar(node) && node.value === null);
    const list = (value: unknown, line: number, key: string): Item[] => {
      const node = resolve(value, line);
      if (isEmpty(node)) {
        return [];
      }
      if (!isSeq(node)) {
        throw invalid(line, `${key} must be a list`);
      }
      return node.items.map(item => {
        const at = lineOf(item, line);
        return { node: resolve(item, at), line: at };
      });
    };
    const string = ({ node, line }: Item): Scalar => {
      const value = isScalar(node) ? node.value : node;
      const text = typeof value === 'string' ? value.trim() : null;
      if (value === null || value === undefined || text === '') {
        throw invalid(line, 'an empty list item');
      }
      if (text !== null && !text.includes('\n')) {
        return { text, line };
      }
      const what = isSeq(node)
        ? 'a nested list'
        : isMap(node)
          ? 'a mapping'
          : text !== null
            ? 'a string of several lines'
            : `${isScalar(node) ? node.source : ''} (read as a ${typeof value}: quote it)`;
      throw new UnreadableSyntax(line, `${what} where a string is expected`);
    };

    const doc: Document = { channels: [], dependencies: [], pip: [], otherKeys: [] };
    const root = resolve(yaml.contents, 1);
    if (isEmpty(root)) {
      return doc;
    }
    if (!isMap(root)) {
      throw invalid(
        lineOf(root, 1),
        'environment.yml must be a mapping of keys (name:, channels:, dependencies:)'
      );
    }
    for (const { key, value } of root.items) {
      const line = lineOf(key, 1);
      const name = isScalar(key) ? String(key.value) : null;
      if (name === 'channels') {
        doc.channels = list(value, line, name).map(string);
      } else if (name === 'dependencies') {
        for (const item of list(value, line, name)) {
          const pip = isMap(item.node) && item.node.items.length === 1 ? item.node.items[0] : null;
          if (pip && isScalar(pip.key) && pip.key.value === 'pip') {
            doc.pip.push(...list(pip.value, item.line, 'pip').map(string));
          } else if (isMap(item.node)) {
            throw new UnreadableSyntax(item.line, 'a mapping in dependencies other than "- pip:"');
          } else {
            doc.dependencies.push(string(item));
          }
        }
      } else if (name === 'name' || name === 'prefix') {
        const node = resolve(value, line);
        if (isSeq(node) || isMap(node)) {
          throw invalid(line, `${name} must be a string`);
        }
      } else if (name === null) {
        throw invalid(line, 'a key must be a name');
      } else {
        doc.otherKeys.push({ key: name, line });
      }
    }
    return doc;
  }
}
