/**
 * Requirement lines, as in `requirements.txt` and the `pip:` list of `environment.yml`, read as pip reads them.
 *
 * A provider installs into a uv venv from PyPI and nothing else, so every line that needs another index, a URL, a
 * VCS checkout, a local path, an editable install or another requirements file is refused with its line number;
 * a line pip could not read either is ENV_INVALID_FILE.
 */
import { Findings, RefusalRule, Requirement, invalidFile, readText } from './environment-report.js';

const NAME = '[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?';
const REQUIREMENT = new RegExp(
  `^(${NAME})\\s*(\\[\\s*(?:${NAME}\\s*(?:,\\s*${NAME}\\s*)*)?\\])?\\s*([^;]*?)\\s*(?:;(.*))?$`
);
const VERSION_CLAUSE = '(?:~=|===|==|!=|<=|>=|<|>)\\s*[A-Za-z0-9.*+!_-]+';
const VERSION_SPEC = new RegExp(`^(?:${VERSION_CLAUSE}(?:\\s*,\\s*${VERSION_CLAUSE})*)?$`);

/** PEP 503 normalized project name. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * Reads one requirement (comment-free, trimmed) of `file`: a Requirement, or null when it is refused (recorded in
 * `findings`). Throws ENV_INVALID_FILE when it is not a requirement pip could read either.
 */
export function readRequirement(
  text: string,
  file: string,
  line: number | undefined,
  findings: Findings
): Requirement | null {
  const refuse = (rule: RefusalRule, reason: string, advice: string) => {
    findings.refuse({
      file,
      ...(line === undefined ? {} : { line }),
      rule,
      reason: `${text}: ${reason}`,
      advice
    });
    return null;
  };
  if (text.startsWith('-')) {
    return refuse(...Private.optionRefusal(text));
  }
  // Per-requirement options come after the requirement; only --hash is honoured (uv checks hashes too).
  const optionAt = text.search(/\s--?[A-Za-z]/);
  const spec = optionAt < 0 ? text : text.slice(0, optionAt).trim();
  const options = optionAt < 0 ? '' : text.slice(optionAt).trim();
  const target = spec.split(';')[0];
  if (target.includes('://') || /^(?:git|hg|svn|bzr)\+|^file:/i.test(target)) {
    return refuse(
      'requirement-url',
      'installs from a URL or a version-control checkout, but a provider reaches only PyPI',
      'Publish the package to PyPI (or use a released version) and require it by name and version.'
    );
  }
  if (/^[.~/\\]|[/\\]|\.(?:whl|zip|tar|tgz|tar\.gz|tar\.bz2|tar\.xz)$/i.test(target.trim())) {
    return refuse(
      'requirement-local',
      'installs from a local path or archive, which a provider does not build',
      'Require the package from PyPI by name and version instead.'
    );
  }
  if (options && !/^(?:--hash=[a-z0-9]+:[0-9a-fA-F]+\s*)+$/.test(options)) {
    return refuse(
      'requirement-option',
      `the option ${options.split(/[\s=]/)[0]} is not honoured (only --hash is)`,
      'Remove the option from the line.'
    );
  }
  const match = REQUIREMENT.exec(spec);
  const version = match?.[3].replace(/^\((.*)\)$/, '$1').trim() ?? '';
  if (!match || !VERSION_SPEC.test(version) || (match[4] !== undefined && !match[4].trim())) {
    throw invalidFile(
      file,
      line,
      `"${text}" is not a requirement pip can read (name[extras] version ; markers)`
    );
  }
  return { requirement: text, name: normalizeName(match[1]), file, ...(line === undefined ? {} : { line }) };
}

/** Reads `requirements.txt` as pip does: `#` comments, `\` line continuations, one requirement or option a line. */
export function readRequirementsTxt(file: string, bytes: Uint8Array, findings: Findings): Requirement[] {
  const lines = readText(file, bytes).split('\n');
  const requirements: Requirement[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let text = lines[i];
    while (text.endsWith('\\') && i + 1 < lines.length) {
      text = text.slice(0, -1) + lines[++i];
    }
    text = text.replace(/(?:^|\s)#.*$/, '').trim();
    if (text) {
      const requirement = readRequirement(text, file, first, findings);
      if (requirement) {
        requirements.push(requirement);
      }
    }
  }
  return requirements;
}

namespace Private {
  const INDEX_OPTIONS = [
    '-i',
    '--index-url',
    '--extra-index-url',
    '-f',
    '--find-links',
    '--trusted-host',
    '--no-index'
  ];

  /** The refusal of a line that starts with an option. */
  export function optionRefusal(text: string): [RefusalRule, string, string] {
    const option = /^-(?:-[A-Za-z-]+|[A-Za-z])/.exec(text)?.[0] ?? text;
    if (option === '-e' || option === '--editable') {
      return [
        'requirement-editable',
        'an editable install builds a local or checked-out package, which a provider does not do',
        'Require a released version from PyPI by name and version.'
      ];
    }
    if (['-r', '--requirement', '-c', '--constraint'].includes(option)) {
      return [
        'requirement-include',
        'another requirements or constraints file is not read',
        'Copy its lines into this file.'
      ];
    }
    if (INDEX_OPTIONS.includes(option)) {
      return [
        'requirement-index',
        'a provider installs from PyPI only, so other indexes and download locations are not used',
        'Remove the option and require packages that are published on PyPI.'
      ];
    }
    return [
      'requirement-option',
      `the option ${option} is not honoured`,
      option === '--pre'
        ? 'Pin the pre-release you need explicitly (e.g. pkg==2.0rc1) instead of --pre.'
        : 'Remove the option; write one requirement a line.'
    ];
  }
}
