/**
 * Launch links (DESIGN.md "Launch links"): URLs that open a notebook in JupyterLab and offer to run or reproduce
 * it. Pure parsing and formatting, shared by the extension (its router rule, "Copy launch link"), the CLI and the
 * tests, so that every part writes and reads exactly the same links.
 *
 *   <base>/lab/tree/<path>?ain-run=<chainId>:<runId>
 *       a run recorded on-chain (the notebook at <path> is already in the user's files, e.g. a repository on Binder);
 *   <base>/lab/tree/<path>?ain-bundle=<sha256>@<URL-encoded agent URL>
 *       content-addressed: the bundle whose hash is <sha256>, fetched from that provider agent and checked against
 *       the hash before anything is written;
 *   https://mybinder.org/v2/gh/<owner>/<repo>/<ref>?urlpath=lab/tree/<path>%3Fain-run%3D...
 *       the same on Binder: the `?` of the inner link is percent-encoded inside `urlpath` (FIELD-NOTES).
 *
 * Parsing is strict: what a link carries comes from anyone, so every field is checked and a bad one is named.
 */
import { makeError } from './errors.js';
import { Hex32, isHex32 } from './hash.js';

/** The query parameter of a run link. */
export const LAUNCH_RUN_PARAM = 'ain-run';
/** The query parameter of a bundle link. */
export const LAUNCH_BUNDLE_PARAM = 'ain-bundle';
/** The folder (in the user's JupyterLab files) that bundles of launch links are unpacked into. */
export const LAUNCH_FOLDER = 'ain-launch';
/** The default Binder host. */
export const BINDER_HOST = 'https://mybinder.org';

/** A run on a chain. */
export interface ILaunchRun {
  kind: 'run';
  chainId: number;
  runId: Hex32;
}

/** A bundle by hash, at a provider agent. */
export interface ILaunchBundle {
  kind: 'bundle';
  bundleHash: Hex32;
  /** The agent's base URL (http or https, no query, no trailing slash). */
  agentUrl: string;
}

/** What a launch link asks for. */
export type LaunchTarget = ILaunchRun | ILaunchBundle;

/** A whole launch link, taken apart. */
export interface ILaunchLink {
  /** The server's base URL (origin and base path, no trailing slash), e.g. http://127.0.0.1:8888. */
  base: string;
  /** The notebook path relative to the server's root, decoded, without a leading slash. */
  path: string;
  target: LaunchTarget;
}

/** `<chainId>:<runId>`. */
export function formatRunValue(chainId: number, runId: Hex32): string {
  return `${Private.chainId(String(chainId))}:${Private.hash(runId, 'run id')}`;
}

/** Parses `<chainId>:<runId>` (the value of `ain-run=`). */
export function parseRunValue(value: string): ILaunchRun {
  const i = value.indexOf(':');
  if (i < 0) {
    throw Private.invalid(
      `ain-run must be <chain id>:<run id> (e.g. 31337:0x…), not "${Private.clip(value)}".`
    );
  }
  return {
    kind: 'run',
    chainId: Private.chainId(value.slice(0, i)),
    runId: Private.hash(value.slice(i + 1), 'run id')
  };
}

/** `<sha256>@<agent URL>`, not yet URL-encoded (launchQuery encodes it). */
export function formatBundleValue(bundleHash: Hex32, agentUrl: string): string {
  return `${Private.hash(bundleHash, 'bundle hash')}@${normalizeAgentUrl(agentUrl)}`;
}

/** Parses `<sha256>@<agent URL>` (the decoded value of `ain-bundle=`). */
export function parseBundleValue(value: string): ILaunchBundle {
  const at = value.indexOf('@');
  if (at < 0) {
    throw Private.invalid(
      `ain-bundle must be <bundle sha256>@<agent URL> (e.g. 0x…@https%3A%2F%2Fprovider.example), not "${Private.clip(value)}".`
    );
  }
  return {
    kind: 'bundle',
    bundleHash: Private.hash(value.slice(0, at), 'bundle hash'),
    agentUrl: normalizeAgentUrl(value.slice(at + 1))
  };
}

/**
 * An agent's base URL as links carry it: http(s), no credentials, query or fragment, no trailing slash. A link
 * that named `javascript:` or `file:` here would make the page fetch from somewhere it should not.
 */
export function normalizeAgentUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw Private.invalid(
      `The agent URL "${Private.clip(value)}" is not a URL; it must look like https://provider.example.`
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw Private.invalid(`The agent URL must be http or https, not ${url.protocol.replace(/:$/, '')}.`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw Private.invalid('The agent URL must not carry credentials, a query or a fragment.');
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** The query string (without `?`) of a target: `ain-run=31337:0x…` or `ain-bundle=0x…@<encoded URL>`. */
export function launchQuery(target: LaunchTarget): string {
  if (target.kind === 'run') {
    return `${LAUNCH_RUN_PARAM}=${formatRunValue(target.chainId, target.runId)}`;
  }
  const hash = Private.hash(target.bundleHash, 'bundle hash');
  return `${LAUNCH_BUNDLE_PARAM}=${hash}@${encodeURIComponent(normalizeAgentUrl(target.agentUrl))}`;
}

/**
 * The launch target in a query string (`?a=b&ain-run=…`, with or without the `?`): null when it has none; an
 * error when the parameter is malformed or both kinds are given (which one would the user have meant?).
 */
export function readLaunchTarget(search: string): LaunchTarget | null {
  const params = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const runs = params.getAll(LAUNCH_RUN_PARAM);
  const bundles = params.getAll(LAUNCH_BUNDLE_PARAM);
  if (runs.length + bundles.length > 1) {
    throw Private.invalid('A launch link carries one ain-run or one ain-bundle parameter, not several.');
  }
  if (runs.length) {
    return parseRunValue(runs[0]);
  }
  return bundles.length ? parseBundleValue(bundles[0]) : null;
}

/** The query string without the launch parameters: `''` or `?rest`. */
export function withoutLaunchParams(search: string): string {
  const params = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  params.delete(LAUNCH_RUN_PARAM);
  params.delete(LAUNCH_BUNDLE_PARAM);
  const rest = params.toString();
  return rest ? `?${rest}` : '';
}

/** A notebook path checked for a link: relative, no empty, `.` or `..` segment. */
export function checkLaunchPath(path: string): string {
  const clean = path.replace(/^\/+/, '');
  if (!clean || clean.split('/').some(s => s === '' || s === '.' || s === '..')) {
    throw Private.invalid(
      `The notebook path "${Private.clip(path)}" must be a relative path without . or .. segments.`
    );
  }
  return clean;
}

/** `<base>/lab/tree/<path>?<launch query>`; the path's segments are percent-encoded, its slashes kept. */
export function launchLink(link: ILaunchLink): string {
  const base = link.base.replace(/\/+$/, '');
  return `${base}/lab/tree/${Private.encodePath(checkLaunchPath(link.path))}?${launchQuery(link.target)}`;
}

/** Takes a launch link apart (the inverse of launchLink; `/doc/tree/` links are read too). */
export function parseLaunchLink(href: string): ILaunchLink {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    throw Private.invalid(`"${Private.clip(href)}" is not a URL.`);
  }
  const m = /^(.*?)\/(?:lab|doc)\/tree\/(.+)$/.exec(url.pathname);
  if (!m) {
    throw Private.invalid(
      `"${Private.clip(href)}" is not a JupyterLab tree link (<base>/lab/tree/<path>?…).`
    );
  }
  const target = readLaunchTarget(url.search);
  if (!target) {
    throw Private.invalid(
      `"${Private.clip(href)}" has no ${LAUNCH_RUN_PARAM} or ${LAUNCH_BUNDLE_PARAM} parameter.`
    );
  }
  const path = m[2]
    .split('/')
    .map(s => decodeURIComponent(s))
    .join('/');
  return { base: `${url.origin}${m[1]}`, path: checkLaunchPath(path), target };
}

/** Options of a Binder link. */
export interface IBinderLinkOptions {
  /** `owner/name` of the GitHub repository. */
  repository: string;
  /** Branch, tag or commit. */
  ref: string;
  /** The notebook's path in the repository. */
  path: string;
  target: LaunchTarget;
  /** Default https://mybinder.org. */
  host?: string;
}

/**
 * `https://mybinder.org/v2/gh/<owner>/<repo>/<ref>?urlpath=lab/tree/<path>%3Fain-run%3D…`: Binder builds the
 * repository, starts JupyterLab and opens `urlpath` there, which is the launch link relative to the server.
 */
export function binderLink(options: IBinderLinkOptions): string {
  const repo = options.repository.replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/.test(repo)) {
    throw Private.invalid(
      `The repository must be <owner>/<name> on GitHub, not "${Private.clip(options.repository)}".`
    );
  }
  if (!options.ref) {
    throw Private.invalid('A Binder link needs a ref (a branch, tag or commit).');
  }
  const inner = `lab/tree/${Private.encodePath(checkLaunchPath(options.path))}?${launchQuery(options.target)}`;
  // encodeURIComponent turns the inner `?`, `=`, `&`, `%` into escapes; slashes are kept for readability.
  const urlpath = encodeURIComponent(inner).replace(/%2F/g, '/');
  const host = (options.host ?? BINDER_HOST).replace(/\/+$/, '');
  return `${host}/v2/gh/${repo}/${encodeURIComponent(options.ref)}?urlpath=${urlpath}`;
}

/** The Markdown of a README badge: the image, linked to the launch link. */
export function badgeMarkdown(link: string, imageUrl: string, alt = 'Run on AI Network'): string {
  return `[![${alt.replace(/[[\]]/g, '')}](${imageUrl})](${link})`;
}

/** The folder a bundle of a launch link is unpacked into: `ain-launch/<first 8 hex digits of its hash>`. */
export function launchFolder(bundleHash: Hex32): string {
  return `${LAUNCH_FOLDER}/${Private.hash(bundleHash, 'bundle hash').slice(2, 10)}`;
}

namespace Private {
  export function invalid(message: string): Error {
    return makeError('LAUNCH_LINK_INVALID', `Launch link: ${message}`);
  }

  /** A value quoted in a message: links come from anyone, so quote little of them. */
  export function clip(value: string): string {
    return value.length > 80 ? `${value.slice(0, 77)}...` : value;
  }

  export function chainId(text: string): number {
    const n = Number(text);
    if (!/^[1-9][0-9]*$/.test(text) || !Number.isSafeInteger(n)) {
      throw invalid(`The chain id must be a positive decimal integer, not "${clip(text)}".`);
    }
    return n;
  }

  export function hash(text: string, what: string): Hex32 {
    const lower = text.toLowerCase();
    if (!isHex32(lower)) {
      throw invalid(`The ${what} must be 0x followed by 64 hex digits, not "${clip(text)}".`);
    }
    return lower;
  }

  export function encodePath(path: string): string {
    return path
      .split('/')
      .map(s => encodeURIComponent(s))
      .join('/');
  }
}
