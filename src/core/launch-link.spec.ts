import { isAinError } from './errors';
import {
  badgeMarkdown,
  binderLink,
  formatBundleValue,
  formatRunValue,
  launchFolder,
  launchLink,
  launchQuery,
  normalizeAgentUrl,
  parseBundleValue,
  parseLaunchLink,
  parseRunValue,
  readLaunchTarget,
  withoutLaunchParams
} from './launch-link';

const RUN = '0x' + 'ab'.repeat(32);
const HASH = '0x' + '0123456789abcdef'.repeat(4);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isAinError(e) ? `${e.code}: ${e.message}` : `not an AinError: ${e}`;
  }
  return 'no error';
}

describe('launch links', () => {
  it('formats and parses ain-run values, normalizing the run id to lowercase', () => {
    expect(formatRunValue(31337, RUN)).toBe(`31337:${RUN}`);
    expect(parseRunValue(`1:${RUN.toUpperCase().replace('0X', '0x')}`)).toEqual({
      kind: 'run',
      chainId: 1,
      runId: RUN
    });
  });

  it('refuses malformed ain-run values, naming what is wrong', () => {
    expect(code(() => parseRunValue(RUN))).toMatch(/LAUNCH_LINK_INVALID: .*<chain id>:<run id>/);
    expect(code(() => parseRunValue(`0:${RUN}`))).toMatch(/chain id must be a positive decimal/);
    expect(code(() => parseRunValue(`01:${RUN}`))).toMatch(/chain id/);
    expect(code(() => parseRunValue(`9007199254740993:${RUN}`))).toMatch(/chain id/);
    expect(code(() => parseRunValue('31337:0x1234'))).toMatch(/run id must be 0x followed by 64 hex/);
  });

  it('formats and parses ain-bundle values with the agent URL normalized', () => {
    expect(formatBundleValue(HASH, 'https://provider.example/agent/')).toBe(
      `${HASH}@https://provider.example/agent`
    );
    expect(parseBundleValue(`${HASH}@http://127.0.0.1:8601`)).toEqual({
      kind: 'bundle',
      bundleHash: HASH,
      agentUrl: 'http://127.0.0.1:8601'
    });
  });

  it('accepts only plain http(s) agent URLs', () => {
    expect(normalizeAgentUrl('HTTPS://Provider.Example:443/')).toBe('https://provider.example');
    for (const bad of [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'ftp://x.example',
      'https://user:pw@x.example',
      'https://x.example/?q=1',
      'https://x.example/#f',
      'not a url'
    ]) {
      expect(code(() => normalizeAgentUrl(bad))).toMatch(/^LAUNCH_LINK_INVALID: /);
    }
    expect(code(() => parseBundleValue(HASH))).toMatch(/<bundle sha256>@<agent URL>/);
  });

  it('reads the target from a query string and strips only the launch parameters', () => {
    expect(readLaunchTarget('')).toBeNull();
    expect(readLaunchTarget('?reset&x=1')).toBeNull();
    expect(readLaunchTarget(`?x=1&ain-run=31337:${RUN}`)).toEqual({
      kind: 'run',
      chainId: 31337,
      runId: RUN
    });
    expect(readLaunchTarget(`ain-bundle=${HASH}@${encodeURIComponent('http://127.0.0.1:8601')}`)).toEqual({
      kind: 'bundle',
      bundleHash: HASH,
      agentUrl: 'http://127.0.0.1:8601'
    });
    expect(code(() => readLaunchTarget(`?ain-run=1:${RUN}&ain-bundle=${HASH}@http://a.example`))).toMatch(
      /one ain-run or one ain-bundle/
    );
    expect(withoutLaunchParams(`?x=1&ain-run=1:${RUN}&y=2`)).toBe('?x=1&y=2');
    expect(withoutLaunchParams(`?ain-run=1:${RUN}`)).toBe('');
  });

  it('builds links that parse back to the same parts, with odd characters in the path', () => {
    const link = launchLink({
      base: 'http://127.0.0.1:8888/',
      path: 'my notebooks/a#b?.ipynb',
      target: { kind: 'run', chainId: 31337, runId: RUN }
    });
    expect(link).toBe(`http://127.0.0.1:8888/lab/tree/my%20notebooks/a%23b%3F.ipynb?ain-run=31337:${RUN}`);
    expect(parseLaunchLink(link)).toEqual({
      base: 'http://127.0.0.1:8888',
      path: 'my notebooks/a#b?.ipynb',
      target: { kind: 'run', chainId: 31337, runId: RUN }
    });
    const bundle = launchLink({
      base: 'https://hub.example/user/ann',
      path: 'x.ipynb',
      target: { kind: 'bundle', bundleHash: HASH, agentUrl: 'https://p.example:8601/a' }
    });
    expect(bundle).toBe(
      `https://hub.example/user/ann/lab/tree/x.ipynb?ain-bundle=${HASH}@https%3A%2F%2Fp.example%3A8601%2Fa`
    );
    expect(parseLaunchLink(bundle).base).toBe('https://hub.example/user/ann');
    expect(parseLaunchLink(bundle).target).toEqual({
      kind: 'bundle',
      bundleHash: HASH,
      agentUrl: 'https://p.example:8601/a'
    });
  });

  it('refuses paths that climb out of the server root', () => {
    for (const path of ['', '../x.ipynb', 'a/../../x.ipynb', 'a//b.ipynb', './x.ipynb']) {
      expect(
        code(() => launchLink({ base: 'http://h', path, target: { kind: 'run', chainId: 1, runId: RUN } }))
      ).toMatch(/relative path without \. or \.\./);
    }
    // The URL parser resolves %2E%2E segments itself (the link is then no tree link); an encoded slash is decoded
    // here, and the `..` it reveals is refused.
    expect(code(() => parseLaunchLink(`http://h/lab/tree/a/%2E%2E/%2E%2E/x?ain-run=1:${RUN}`))).toMatch(
      /LAUNCH_LINK_INVALID/
    );
    expect(code(() => parseLaunchLink(`http://h/lab/tree/a%2F..%2Fb.ipynb?ain-run=1:${RUN}`))).toMatch(
      /relative path without/
    );
    expect(code(() => parseLaunchLink('http://h/lab/tree/x.ipynb'))).toMatch(/has no ain-run or ain-bundle/);
    expect(code(() => parseLaunchLink(`http://h/files/x.ipynb?ain-run=1:${RUN}`))).toMatch(
      /not a JupyterLab tree link/
    );
  });

  it('builds the Binder form with the inner query percent-encoded in urlpath', () => {
    const link = binderLink({
      repository: 'ai-network/jupyterlab-ain',
      ref: 'main',
      path: 'examples/hello-ain.ipynb',
      target: { kind: 'run', chainId: 31337, runId: RUN }
    });
    expect(link).toBe(
      'https://mybinder.org/v2/gh/ai-network/jupyterlab-ain/main?urlpath=lab/tree/examples/hello-ain.ipynb' +
        `%3Fain-run%3D31337%3A${RUN}`
    );
    // What Binder does with urlpath: decode it once and open it on the server; the launch link comes out whole.
    const urlpath = new URL(link).searchParams.get('urlpath')!;
    expect(parseLaunchLink(`https://hub.example/user/x/${urlpath}`).target).toEqual({
      kind: 'run',
      chainId: 31337,
      runId: RUN
    });
    // A bundle link's agent URL is encoded once for the inner link and once more for urlpath.
    const bundle = binderLink({
      repository: 'o/r',
      ref: 'v1.0',
      path: 'n.ipynb',
      target: { kind: 'bundle', bundleHash: HASH, agentUrl: 'http://127.0.0.1:8601' }
    });
    const inner = new URL(bundle).searchParams.get('urlpath')!;
    expect(inner).toBe(`lab/tree/n.ipynb?ain-bundle=${HASH}@http%3A%2F%2F127.0.0.1%3A8601`);
    expect(
      code(() =>
        binderLink({
          repository: 'no-slash',
          ref: 'main',
          path: 'n.ipynb',
          target: { kind: 'run', chainId: 1, runId: RUN }
        })
      )
    ).toMatch(/<owner>\/<name>/);
  });

  it('makes badge Markdown and the unpack folder', () => {
    expect(badgeMarkdown('https://l.example/x?ain-run=1:0x', 'https://i.example/badge.svg')).toBe(
      '[![Run on AI Network](https://i.example/badge.svg)](https://l.example/x?ain-run=1:0x)'
    );
    expect(launchFolder(HASH)).toBe('ain-launch/01234567');
    expect(launchQuery({ kind: 'run', chainId: 5, runId: RUN })).toBe(`ain-run=5:${RUN}`);
  });
});
