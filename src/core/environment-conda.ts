/**
 * Reads `environment.yml` (conda), honestly and only as far as it can be read exactly.
 *
 * No YAML library is installed. Conda environment files are a mapping of a few keys (`name`, `channels`,
 * `dependencies`, `prefix`, `variables`) whose values are plain lists of strings, with one nested `- pip:` list,
 * so this reads exactly that block-and-flow subset: plain, single- and double-quoted scalars, block sequences
 * (indented or not under their key) and one-line flow sequences. Anything else YAML allows (anchors, aliases, tags,
 * block scalars, flow mappings, several documents, nested lists) makes the whole file refused with the line, rather
 * than guessed; broken YAML (tabs for indentation, unclosed quotes) is ENV_INVALID_FILE.
 */
import { pythonVersion } from './environment-python.js';
import { readRequirement } from './environment-requirements.js';
import {
  CondaInstall,
  Findings,
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
  const doc = readOrRefuse(file, findings, () => Private.readDocument(file, readText(file, bytes)));
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
  interface Line {
    n: number;
    indent: number;
    text: string;
  }

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

  const KEY = /^(?:([A-Za-z_][\w.-]*)|"([^"\\]*)"|'([^']*)')\s*:(?:\s+(.*))?$/;

  export function readDocument(file: string, text: string): Document {
    const invalid = (line: number, what: string) => invalidFile(file, line, `${what} (YAML)`);
    const lines = toLines(text, invalid);
    const doc: Document = { channels: [], dependencies: [], pip: [], otherKeys: [] };
    const seen = new Set<string>();
    for (let i = 0; i < lines.length; ) {
      const head = lines[i];
      const key = KEY.exec(head.text);
      if (head.indent !== 0 || !key) {
        throw invalid(head.n, 'environment.yml must be a mapping of keys (name:, channels:, dependencies:)');
      }
      const name = key[1] ?? key[2] ?? key[3];
      const rest = key[4] ?? '';
      let end = i + 1;
      while (end < lines.length && (lines[end].indent > 0 || /^-(?:\s|$)/.test(lines[end].text))) {
        end++;
      }
      const block = lines.slice(i + 1, end);
      i = end;
      if (seen.has(name)) {
        throw invalid(head.n, `the key ${name} appears twice`);
      }
      seen.add(name);
      if (name === 'channels') {
        doc.channels = sequence(rest, block, head.n, invalid).map(item => scalar(item, invalid));
      } else if (name === 'dependencies') {
        for (const item of sequence(rest, block, head.n, invalid)) {
          const pip = KEY.exec(item.text);
          if (pip && (pip[1] ?? pip[2] ?? pip[3]) === 'pip') {
            doc.pip.push(
              ...sequence(pip[4] ?? '', item.nested, item.line, invalid).map(p => scalar(p, invalid))
            );
          } else if (pip) {
            throw new UnreadableSyntax(
              item.line,
              `the mapping "${item.text}" in dependencies (only "- pip:" may be one)`
            );
          } else {
            doc.dependencies.push(scalar(item, invalid));
          }
        }
      } else if (name === 'name' || name === 'prefix') {
        if (block.length) {
          throw invalid(head.n, `${name} must be one string on its line`);
        }
        if (rest) {
          scalar({ text: rest, line: head.n, nested: [] }, invalid);
        }
      } else {
        doc.otherKeys.push({ key: name, line: head.n });
      }
    }
    return doc;
  }

  type Invalid = (line: number, what: string) => Error;

  interface Item {
    text: string;
    line: number;
    nested: Line[];
  }

  /** Lines with their indentation, comments and blank lines removed. */
  function toLines(text: string, invalid: Invalid): Line[] {
    const lines: Line[] = [];
    text.split('\n').forEach((raw, index) => {
      const n = index + 1;
      const indent = /^[ \t]*/.exec(raw)![0];
      const content = stripComment(raw.slice(indent.length), n, invalid).trimEnd();
      if (!content) {
        return;
      }
      if (indent.includes('\t')) {
        throw invalid(n, 'a tab indents this line, and YAML allows only spaces');
      }
      if (content === '---' && !lines.length) {
        return;
      }
      if (/^(?:---|\.\.\.)(?:\s|$)|^%/.test(content)) {
        throw new UnreadableSyntax(n, `"${content}" (several YAML documents or directives)`);
      }
      lines.push({ n, indent: indent.length, text: content });
    });
    return lines;
  }

  /** Drops a `#` comment (at the start or after a space, outside quotes); a quote left open is an error. */
  function stripComment(text: string, n: number, invalid: Invalid): string {
    let quote = '';
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quote === '"' && c === '\\') {
        i++;
      } else if (quote && c === quote) {
        quote = '';
      } else if (!quote && (c === '"' || c === "'") && (i === 0 || /[\s[,:-]/.test(text[i - 1]))) {
        quote = c;
      } else if (!quote && c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
        return text.slice(0, i);
      }
    }
    if (quote) {
      throw invalid(n, `a ${quote} quote is not closed on its line`);
    }
    return text;
  }

  /** The items of a list given inline (`[a, b]`) or as a block of `- item` lines. */
  function sequence(rest: string, block: Line[], line: number, invalid: Invalid): Item[] {
    if (rest) {
      if (block.length) {
        throw invalid(line, 'a value on the key line cannot be followed by indented lines');
      }
      if (!rest.startsWith('[') || !rest.endsWith(']')) {
        throw invalid(line, `"${rest}" must be a list`);
      }
      return flow(rest.slice(1, -1), line);
    }
    if (!block.length) {
      return []; // an empty value, which YAML reads as null
    }
    const indent = block[0].indent;
    const items: Item[] = [];
    for (const l of block) {
      if (l.indent > indent && items.length) {
        items[items.length - 1].nested.push(l);
      } else if (l.indent === indent && /^-(?:\s|$)/.test(l.text)) {
        items.push({ text: l.text.slice(1).trim(), line: l.n, nested: [] });
      } else {
        throw invalid(l.n, 'a list item ("- value") is expected here, aligned with the items above');
      }
    }
    return items;
  }

  /** Items of a one-line flow sequence; nested collections are not read. */
  function flow(inner: string, line: number): Item[] {
    const items: Item[] = [];
    let quote = '';
    let start = 0;
    for (let i = 0; i <= inner.length; i++) {
      const c = inner[i];
      if (quote === '"' && c === '\\') {
        i++;
      } else if (quote) {
        quote = c === quote ? '' : quote;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (c === '[' || c === '{') {
        throw new UnreadableSyntax(line, 'a collection nested in a flow list');
      } else if (c === ',' || c === undefined) {
        const text = inner.slice(start, i).trim();
        if (text || c === ',') {
          items.push({ text, line, nested: [] });
        }
        start = i + 1;
      }
    }
    return items;
  }

  /** A plain or quoted scalar item; everything YAML would read differently is refused. */
  function scalar(item: Item, invalid: Invalid): Scalar {
    const { text, line } = item;
    if (/^[&*!|>%@`{[]|^[-?:](?:\s|$)/.test(text)) {
      throw new UnreadableSyntax(
        line,
        `"${text}" (an anchor, alias, tag, block scalar or nested collection)`
      );
    }
    if (item.nested.length) {
      throw new UnreadableSyntax(item.nested[0].n, `a value continued on the next lines ("${text}")`);
    }
    if (!text) {
      throw invalid(line, 'an empty list item');
    }
    if (text.startsWith("'") || text.startsWith('"')) {
      const quoted = text.startsWith("'")
        ? /^'((?:[^']|'')*)'$/.exec(text)
        : /^"((?:[^"\\]|\\.)*)"$/.exec(text);
      if (!quoted) {
        throw invalid(line, `${text} must be one quoted string`);
      }
      return {
        text: text.startsWith("'") ? quoted[1].replace(/''/g, "'") : unescape(quoted[1], line, invalid),
        line
      };
    }
    if (/:(?:\s|$)/.test(text)) {
      throw new UnreadableSyntax(line, `the mapping "${text}" where a string is expected`);
    }
    return { text, line };
  }

  function unescape(body: string, line: number, invalid: Invalid): string {
    const simple: Record<string, string> = {
      '\\': '\\',
      '"': '"',
      '/': '/',
      n: '\n',
      t: '\t',
      r: '\r',
      '0': '\0',
      ' ': ' '
    };
    return body.replace(/\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (_, e: string) => {
      if (e.length > 1) {
        return String.fromCodePoint(parseInt(e.slice(1), 16));
      }
      if (!(e in simple)) {
        throw invalid(line, `\\${e} is not a YAML escape`);
      }
      return simple[e];
    });
  }
}
