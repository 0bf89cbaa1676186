import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectEnvironment, EnvironmentReport, isEnvironmentPath } from './environment.js';
import { AinError, AinErrorCode, isAinError } from './errors.js';

const encoder = new TextEncoder();

/** A file map from text (or bytes) contents, in the given insertion order. */
function files(entries: Record<string, string | Uint8Array>): Map<string, Uint8Array> {
  return new Map(Object.entries(entries).map(([p, c]) => [p, typeof c === 'string' ? encoder.encode(c) : c]));
}

/** The environment hash, recomputed with node:crypto and hand-written JCS (keys path < sha256, ASCII values). */
function expectedHash(map: Map<string, Uint8Array>, paths: string[]): string {
  const hex = (data: Uint8Array | string) => '0x' + createHash('sha256').update(data).digest('hex');
  const items = [...paths].sort().map(p => `{"path":${JSON.stringify(p)},"sha256":"${hex(map.get(p)!)}"}`);
  return hex(`[${items.join(',')}]`);
}

function thrown(fn: () => unknown): AinError {
  try {
    fn();
  } catch (e) {
    if (isAinError(e)) {
      return e;
    }
    throw e;
  }
  throw new Error('expected an AinError, nothing was thrown');
}

function expectCode(fn: () => unknown, code: AinErrorCode): AinError {
  const e = thrown(fn);
  expect(e.code).toBe(code);
  return e;
}

const rules = (report: EnvironmentReport) => report.refused.map(r => [r.file, r.rule]);
const ignoredRules = (report: EnvironmentReport) => report.ignored.map(r => [r.file, r.rule]);
const requirementTexts = (report: EnvironmentReport) => report.install.requirements.map(r => r.requirement);

describe('isEnvironmentPath', () => {
  it.each([
    ['requirements.txt', true],
    ['environment.yml', true],
    ['environment.yaml', true],
    ['Pipfile.lock', true],
    ['postBuild', true],
    ['binder/requirements.txt', true],
    ['.binder/environment.yml', true],
    ['binder/Dockerfile', true],
    ['setup.py', true],
    ['pyproject.toml', true],
    ['DESCRIPTION', true],
    ['binder/setup.py', false], // repo2docker reads setup.py, pyproject.toml, DESCRIPTION only at the top
    ['binder/pyproject.toml', false],
    ['data/requirements.txt', false],
    ['binder/sub/requirements.txt', false],
    ['other/binder/requirements.txt', false],
    ['requirements.txt.bak', false],
    ['Requirements.txt', false],
    ['analysis.ipynb', false]
  ])('%s -> %s', (path, expected) => {
    expect(isEnvironmentPath(path)).toBe(expected);
  });
});

describe('detectEnvironment: folders and precedence', () => {
  it('reports kind none and the hash of an empty list when there is no environment file', () => {
    for (const map of [files({}), files({ 'analysis.ipynb': '{}', 'data/x.csv': 'a,b\n' })]) {
      const report = detectEnvironment(map);
      expect(report).toMatchObject({ kind: 'none', root: '', files: [], refused: [], ignored: [] });
      expect(report.install).toEqual({ python: null, requiresPython: null, requirements: [], conda: null });
      expect(report.environmentHash).toBe('0x' + createHash('sha256').update('[]').digest('hex'));
    }
  });

  it('reads only the binder folder when there is one, and reports the top files it ignores', () => {
    const map = files({
      'environment.yml': 'dependencies:\n  - numpy\n',
      'setup.py': 'from setuptools import setup\n',
      'binder/requirements.txt': 'pandas==2.2.0\n',
      'binder/README.md': 'not an environment file'
    });
    const report = detectEnvironment(map);
    expect(report.kind).toBe('python');
    expect(report.root).toBe('binder/');
    expect(report.files).toEqual(['binder/requirements.txt']);
    expect(requirementTexts(report)).toEqual(['pandas==2.2.0']);
    expect(ignoredRules(report)).toEqual([
      ['environment.yml', 'outside-binder'],
      ['setup.py', 'outside-binder']
    ]);
    expect(report.ignored[0].reason).toContain('move environment.yml into binder/');
  });

  it('reads .binder/ the same way', () => {
    const report = detectEnvironment(
      files({ '.binder/requirements.txt': 'numpy\n', 'requirements.txt': 'scipy\n' })
    );
    expect(report).toMatchObject({ kind: 'python', root: '.binder/', files: ['.binder/requirements.txt'] });
    expect(ignoredRules(report)).toEqual([['requirements.txt', 'outside-binder']]);
  });

  it('refuses binder/ and .binder/ together, saying to remove one', () => {
    const e = expectCode(
      () => detectEnvironment(files({ 'binder/requirements.txt': 'a\n', '.binder/x': '' })),
      'ENV_CONFLICTING_BINDER_FOLDERS'
    );
    expect(e.message).toMatch(/Remove one/);
  });

  it('refuses a Dockerfile, which replaces every other file (apt.txt and postBuild included)', () => {
    const report = detectEnvironment(
      files({
        Dockerfile: 'FROM python:3.11\n',
        'requirements.txt': 'numpy\n',
        'apt.txt': 'curl\n',
        postBuild: 'echo\n'
      })
    );
    expect(report.kind).toBe('unsupported');
    expect(report.files).toEqual(['Dockerfile']);
    expect(rules(report)).toEqual([['Dockerfile', 'dockerfile']]);
    expect(report.refused[0].reason).toMatch(/Docker/);
    expect(report.refused[0].advice).toBeTruthy();
    expect(ignoredRules(report)).toEqual([
      ['requirements.txt', 'superseded'],
      ['apt.txt', 'superseded'],
      ['postBuild', 'superseded']
    ]);
  });

  it.each([
    ['Project.toml', { 'Project.toml': '[deps]\n' }, 'julia'],
    ['REQUIRE', { REQUIRE: 'julia 0.7\n' }, 'julia'],
    ['default.nix', { 'default.nix': '{}' }, 'nix'],
    ['runtime.txt r-...', { 'runtime.txt': 'r-4.1-2022-01-01\n' }, 'r'],
    ['DESCRIPTION', { DESCRIPTION: 'Package: x\n' }, 'r']
  ])('refuses %s with a reason', (_name, entries, rule) => {
    const report = detectEnvironment(
      files({ ...entries, 'requirements.txt': 'numpy\n', 'apt.txt': 'curl\n' })
    );
    expect(report.kind).toBe('unsupported');
    expect(report.refused[0]).toMatchObject({ file: Object.keys(entries)[0], rule });
    expect(report.refused[0].reason).toMatch(/nothing in this environment is installed/);
    // apt.txt still applies (and is refused); requirements.txt is not read.
    expect(rules(report)).toContainEqual(['apt.txt', 'apt']);
    expect(ignoredRules(report)).toEqual([['requirements.txt', 'superseded']]);
    expect(report.install.requirements).toEqual([]);
  });

  it('ignores DESCRIPTION inside a binder folder reading, as repo2docker does', () => {
    const report = detectEnvironment(
      files({ DESCRIPTION: 'Package: x\n', 'binder/requirements.txt': 'numpy\n' })
    );
    expect(report.kind).toBe('python');
    expect(ignoredRules(report)).toEqual([['DESCRIPTION', 'outside-binder']]);
  });

  it('lets environment.yml win, and reports requirements.txt and runtime.txt as ignored with what to do', () => {
    const report = detectEnvironment(
      files({
        'runtime.txt': 'python-3.9\n',
        'requirements.txt': 'scipy\n',
        'environment.yml': 'channels:\n  - conda-forge\ndependencies:\n  - python=3.10\n  - numpy\n',
        Pipfile: '[packages]\nrequests = "*"\n'
      })
    );
    expect(report.kind).toBe('conda');
    expect(report.files).toEqual(['environment.yml']);
    expect(report.install.python).toBe('3.10');
    expect(ignoredRules(report)).toEqual([
      ['runtime.txt', 'superseded'],
      ['Pipfile', 'superseded'],
      ['requirements.txt', 'superseded']
    ]);
    const reasons = Object.fromEntries(report.ignored.map(i => [i.file, i.reason]));
    expect(reasons['requirements.txt']).toMatch(/environment\.yml decides .*- pip:/);
    expect(reasons['runtime.txt']).toMatch(/python=3\.x/);
  });

  it('reads environment.yaml too, and ignores it when environment.yml exists', () => {
    expect(detectEnvironment(files({ 'environment.yaml': 'dependencies: [numpy]\n' })).kind).toBe('conda');
    const both = detectEnvironment(
      files({ 'environment.yml': '', 'environment.yaml': 'dependencies: [x]\n' })
    );
    expect(both.files).toEqual(['environment.yml']);
    expect(ignoredRules(both)).toEqual([['environment.yaml', 'superseded']]);
  });

  it('lets a Pipfile win over requirements.txt', () => {
    const report = detectEnvironment(
      files({
        Pipfile: '[packages]\nnumpy = "==1.26.4"\n',
        'requirements.txt': 'scipy\n',
        'runtime.txt': 'python-3.11'
      })
    );
    expect(report.kind).toBe('pipenv');
    expect(report.files).toEqual(['Pipfile']);
    expect(requirementTexts(report)).toEqual(['numpy==1.26.4']);
    expect(ignoredRules(report)).toEqual([
      ['runtime.txt', 'superseded'],
      ['requirements.txt', 'superseded']
    ]);
  });

  it('refuses apt.txt (listing its packages), postBuild and start, and counts them in the hash', () => {
    const map = files({
      'requirements.txt': 'numpy\n',
      'apt.txt': '# tools\ncurl\nlibgl1-mesa-glx # for cv2\n',
      postBuild: '#!/bin/bash\njupyter labextension install x\n',
      start: '#!/bin/bash\nexec "$@"\n'
    });
    const report = detectEnvironment(map);
    expect(report.kind).toBe('python');
    expect(rules(report)).toEqual([
      ['apt.txt', 'apt'],
      ['postBuild', 'post-build'],
      ['start', 'start']
    ]);
    expect(report.refused[0].items).toEqual(['curl', 'libgl1-mesa-glx']);
    report.refused.forEach(r => expect(r.advice.length).toBeGreaterThan(10));
    expect(report.files).toEqual(['apt.txt', 'postBuild', 'requirements.txt', 'start']);
    expect(report.environmentHash).toBe(expectedHash(map, report.files));
  });

  it('refuses an apt.txt line that is not a package name as an invalid file, naming the line', () => {
    const e = expectCode(
      () => detectEnvironment(files({ 'apt.txt': 'curl\n$(rm -rf /)\n' })),
      'ENV_INVALID_FILE'
    );
    expect(e.info).toEqual({ file: 'apt.txt', line: 2 });
  });
});

describe('detectEnvironment: Python files', () => {
  it('reads requirements.txt as pip does: comments, continuations, extras, markers, hashes', () => {
    const text = [
      '# data stack',
      'numpy>=1.26,<2  # pinned below 2',
      'pandas[performance] == 2.2.*',
      'scikit-learn \\',
      '  ==1.4.0',
      '',
      'tomli; python_version < "3.11"',
      'requests==2.31.0 --hash=sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f',
      'Typing_Extensions'
    ].join('\r\n');
    const report = detectEnvironment(files({ 'requirements.txt': text }));
    expect(report.install.requirements).toEqual([
      { requirement: 'numpy>=1.26,<2', name: 'numpy', file: 'requirements.txt', line: 2 },
      { requirement: 'pandas[performance] == 2.2.*', name: 'pandas', file: 'requirements.txt', line: 3 },
      { requirement: 'scikit-learn   ==1.4.0', name: 'scikit-learn', file: 'requirements.txt', line: 4 },
      { requirement: 'tomli; python_version < "3.11"', name: 'tomli', file: 'requirements.txt', line: 7 },
      expect.objectContaining({ name: 'requests', line: 8 }),
      { requirement: 'Typing_Extensions', name: 'typing-extensions', file: 'requirements.txt', line: 9 }
    ]);
    expect(report.refused).toEqual([]);
  });

  it.each([
    ['https://example.org/pkg-1.0.tar.gz', 'requirement-url'],
    ['git+https://github.com/org/pkg.git@v1', 'requirement-url'],
    ['pkg @ https://example.org/pkg-1.0-py3-none-any.whl', 'requirement-url'],
    ['pkg@file:///tmp/pkg', 'requirement-url'],
    ['./vendor/pkg', 'requirement-local'],
    ['../pkg', 'requirement-local'],
    ['/opt/wheels/pkg-1.0-py3-none-any.whl', 'requirement-local'],
    ['pkg-1.0-py3-none-any.whl', 'requirement-local'],
    ['-e .', 'requirement-editable'],
    ['--editable=git+https://github.com/org/pkg.git', 'requirement-editable'],
    ['-r other.txt', 'requirement-include'],
    ['--constraint constraints.txt', 'requirement-include'],
    ['--index-url https://my.index/simple', 'requirement-index'],
    ['--extra-index-url https://download.pytorch.org/whl/cu121', 'requirement-index'],
    ['-f https://example.org/wheels', 'requirement-index'],
    ['--trusted-host example.org', 'requirement-index'],
    ['--pre', 'requirement-option'],
    ['numpy --install-option="--prefix=/x"', 'requirement-option']
  ])('refuses %s (%s), naming the line', (line, rule) => {
    const report = detectEnvironment(files({ 'requirements.txt': `numpy\n${line}\n` }));
    expect(report.refused).toEqual([
      expect.objectContaining({
        file: 'requirements.txt',
        line: 2,
        rule,
        reason: expect.stringContaining(line)
      })
    ]);
    expect(report.refused[0].advice.length).toBeGreaterThan(10);
    expect(requirementTexts(report)).toEqual(['numpy']);
  });

  it.each(['numpy===', 'numpy 1.0', '[extra]', 'numpy>=1.0;', 'numpy[extra', '${TOKEN}pkg'])(
    'refuses the malformed requirement %s as an invalid file, naming file and line',
    line => {
      const e = expectCode(
        () => detectEnvironment(files({ 'requirements.txt': `ok\n\n${line}\n` })),
        'ENV_INVALID_FILE'
      );
      expect(e.info).toEqual({ file: 'requirements.txt', line: 3 });
      expect(e.message).toMatch(/^requirements\.txt line 3: /);
    }
  );

  it('refuses a file that is not UTF-8 text', () => {
    const e = expectCode(
      () => detectEnvironment(files({ 'requirements.txt': new Uint8Array([0x6e, 0xff, 0x0a]) })),
      'ENV_INVALID_FILE'
    );
    expect(e.info).toEqual({ file: 'requirements.txt' });
  });

  it.each([
    ['python-3.11', '3.11'],
    ['python-3.10.4', '3.10'],
    ['python-3', null],
    ['python-3.12-2024-01-01', '3.12']
  ])('reads runtime.txt %s as Python %s', (runtime, python) => {
    const report = detectEnvironment(files({ 'runtime.txt': `${runtime}\n` }));
    expect(report).toMatchObject({ kind: 'python', files: ['runtime.txt'], refused: [] });
    expect(report.install.python).toBe(python);
  });

  it.each([
    ['python-2.7', 'python2'],
    ['julia-1.6', 'runtime']
  ])('refuses runtime.txt %s (%s)', (runtime, rule) => {
    const report = detectEnvironment(files({ 'runtime.txt': runtime, 'requirements.txt': 'numpy\n' }));
    expect(rules(report)).toEqual([['runtime.txt', rule]]);
    expect(report.install.python).toBeNull();
  });

  it.each(['python3.11', 'python-', 'python-3-11', 'r-4.1-2022-1-1', 'python-latest'])(
    'refuses the malformed runtime.txt %s',
    runtime => {
      const e = expectCode(() => detectEnvironment(files({ 'runtime.txt': runtime })), 'ENV_INVALID_FILE');
      expect(e.info.file).toBe('runtime.txt');
    }
  );

  it('refuses setup.py (a local package build) and ignores it in a binder reading', () => {
    const report = detectEnvironment(files({ 'setup.py': 'setup()', 'requirements.txt': 'numpy\n' }));
    expect(report.kind).toBe('python');
    expect(report.files).toEqual(['requirements.txt', 'setup.py']);
    expect(rules(report)).toEqual([['setup.py', 'local-package']]);
  });

  it('installs the dependencies of a pyproject.toml package, refuses building the package itself', () => {
    const pyproject = [
      '[build-system]',
      'requires = ["hatchling"]',
      'build-backend = "hatchling.build"',
      '',
      '[project]',
      'name = "demo"',
      "requires-python = '>=3.10'",
      'dependencies = [',
      '  "numpy>=1.26",  # the array library',
      "  'pandas',",
      ']',
      '[project.optional-dependencies]',
      'dev = ["pytest"]',
      '[tool.ruff]',
      'line-length = 100',
      'description = """',
      'multi "line" text"""'
    ].join('\n');
    const report = detectEnvironment(files({ 'pyproject.toml': pyproject }));
    expect(report.kind).toBe('python');
    expect(report.files).toEqual(['pyproject.toml']);
    expect(report.install.requiresPython).toBe('>=3.10');
    expect(report.install.requirements.map(r => r.name)).toEqual(['numpy', 'pandas']);
    expect(rules(report)).toEqual([['pyproject.toml', 'local-package']]);
  });

  it('reads TOML as written: dotted keys, escapes, literal strings; other values do not matter', () => {
    const pyproject = [
      'project.name = "demo"',
      'project.dependencies = ["numpy\\u003e=1.26", \'pandas[excel]\', """scipy"""]',
      '"build-system".requires = ["hatchling"]',
      '[tool.x]',
      'when = 1979-05-27T07:32:00Z',
      'mask = 0xff',
      'limit = +inf',
      '__proto__ = { dependencies = ["evil"] }'
    ].join('\n');
    const report = detectEnvironment(files({ 'pyproject.toml': pyproject }));
    expect(requirementTexts(report)).toEqual(['numpy>=1.26', 'pandas[excel]', 'scipy']);
    expect(rules(report)).toEqual([['pyproject.toml', 'local-package']]);
    expect(({} as any).dependencies).toBeUndefined();
  });

  it('refuses dynamic pyproject dependencies', () => {
    const report = detectEnvironment(
      files({
        'pyproject.toml': '[project]\nname="x"\ndynamic = ["dependencies"]\n[build-system]\nrequires=[]\n'
      })
    );
    expect(rules(report)).toEqual([
      ['pyproject.toml', 'pyproject-dynamic'],
      ['pyproject.toml', 'local-package']
    ]);
  });

  it('does not install the dependencies of a pyproject.toml that is not a package, and says so', () => {
    const report = detectEnvironment(
      files({ 'pyproject.toml': '[project]\nname = "x"\ndependencies = ["numpy"]\n' })
    );
    expect(report.files).toEqual(['pyproject.toml']);
    expect(report.install.requirements).toEqual([]);
    expect(ignoredRules(report)).toEqual([['pyproject.toml', 'not-installed']]);
    expect(report.ignored[0].reason).toMatch(/requirements\.txt/);
  });

  it('does not count a pyproject.toml without [project] (tool settings only)', () => {
    const report = detectEnvironment(files({ 'pyproject.toml': '[tool.black]\nline-length = 100\n' }));
    expect(report).toMatchObject({ kind: 'none', files: [] });
    expect(ignoredRules(report)).toEqual([['pyproject.toml', 'not-installed']]);
  });

  it.each([
    ['an unclosed string', '[project]\nname = "x\n', 2],
    ['a duplicate key', '[project]\nname = "x"\nname = "y"\n', 3],
    ['a table defined twice', '[project]\n[project]\n', 2],
    ['a bare word as value', '[project]\nname = demo\n', 2],
    ['a missing =', '[project]\nname "x"\n', 2],
    ['two values on a line', '[project]\nname = "x" "y"\n', 2],
    ['an array without a comma', '[project]\ndependencies = ["a" "b"]\n', 2],
    ['dependencies that are not strings', '[project]\ndependencies = [1]\n', undefined],
    ['an unknown escape', '[project]\nname = "x"\ndependencies = ["\\q"]\n', 3],
    ['a multi-line string never closed', '[project]\nname = """\nnever closed\n', 2],
    ['a key defined twice through a dotted key', '[project]\nurls.home = "x"\nurls.home = "y"\n', 3],
    ['a table defined by dotted keys, then by a header', 'project.name = "x"\n[project]\n', 2],
    ['a table over a value', 'project = 1\n[project]\n', 2],
    ['an array of tables over a static array', '[project]\nurls = [1]\n[[project.urls]]\n', 3],
    ['a table extending an inline table', 'project = { name = "x" }\n[project.urls]\n', 2],
    ['a header without its bracket', '[project\n', 1],
    ['a value missing', '[project]\nname =\nversion = "1"\n', 2],
    ['[project] that is a date', 'project = 1979-05-27\n', undefined]
  ])('refuses a pyproject.toml with %s as invalid, naming the line', (_what, text, line) => {
    const e = expectCode(() => detectEnvironment(files({ 'pyproject.toml': text })), 'ENV_INVALID_FILE');
    expect(e.info).toEqual(
      line === undefined ? { file: 'pyproject.toml' } : { file: 'pyproject.toml', line }
    );
  });
});

describe('detectEnvironment: environment.yml', () => {
  it('reads channels, conda dependencies and the nested pip list', () => {
    const yml = [
      '---',
      'name: demo  # a comment',
      'channels:',
      '  - conda-forge',
      "  - 'defaults'",
      'dependencies:',
      '- python=3.11.*',
      '- "numpy>=1.26"',
      '- conda-forge::scipy 1.12.*',
      '- pip',
      '- pip:',
      '  - requests==2.31.0   # http',
      '  - "rich[jupyter]"',
      '  - git+https://github.com/org/pkg.git',
      '  - -e .'
    ].join('\n');
    const report = detectEnvironment(files({ 'binder/environment.yml': yml }));
    expect(report).toMatchObject({ kind: 'conda', root: 'binder/', files: ['binder/environment.yml'] });
    expect(report.install).toEqual({
      python: '3.11',
      requiresPython: null,
      conda: {
        channels: ['conda-forge', 'defaults'],
        dependencies: ['python=3.11.*', 'numpy>=1.26', 'conda-forge::scipy 1.12.*', 'pip']
      },
      requirements: [
        { requirement: 'requests==2.31.0', name: 'requests', file: 'binder/environment.yml', line: 12 },
        { requirement: 'rich[jupyter]', name: 'rich', file: 'binder/environment.yml', line: 13 }
      ]
    });
    expect(report.refused.map(r => [r.rule, r.line])).toEqual([
      ['requirement-url', 14],
      ['requirement-editable', 15]
    ]);
  });

  it('reads flow lists, a flow pip mapping and an empty file', () => {
    const report = detectEnvironment(
      files({
        'environment.yml':
          'channels: [conda-forge, "bioconda"]\ndependencies: [python=3.12, numpy, {pip: [x]}]\n'
      })
    );
    expect(report.install.conda).toEqual({
      channels: ['conda-forge', 'bioconda'],
      dependencies: ['python=3.12', 'numpy']
    });
    expect(report.install.python).toBe('3.12');
    expect(report.install.requirements).toEqual([
      { requirement: 'x', name: 'x', file: 'environment.yml', line: 2 }
    ]);
    for (const text of ['', '# nothing yet\n', '---\n', 'name: demo\ndependencies:\n']) {
      const empty = detectEnvironment(files({ 'environment.yml': text }));
      expect(empty.kind).toBe('conda');
      expect(empty.install.conda).toEqual({ channels: [], dependencies: [] });
    }
  });

  it('reads what YAML means: anchors, aliases, standard tags, block scalars, continued lines', () => {
    const yml = [
      'channels:',
      '  - &cf conda-forge',
      'dependencies:',
      '  - &np numpy',
      '  - !!str scipy',
      '  - |',
      '    pandas',
      '  - matplotlib',
      '    >=3.8',
      '  - pip: &pip',
      '      - rich',
      'prefix: *cf'
    ].join('\n');
    const report = detectEnvironment(files({ 'environment.yml': yml }));
    expect(report.refused).toEqual([]);
    expect(report.install.conda).toEqual({
      channels: ['conda-forge'],
      dependencies: ['numpy', 'scipy', 'pandas', 'matplotlib >=3.8']
    });
    expect(report.install.requirements.map(r => [r.requirement, r.line])).toEqual([['rich', 11]]);
    // An alias counts where it is used.
    const aliased = detectEnvironment(
      files({ 'environment.yml': 'name: &np numpy\ndependencies:\n  - python=3.11\n  - *np\n' })
    );
    expect(aliased.install.conda?.dependencies).toEqual(['python=3.11', 'numpy']);
  });

  it('refuses a YAML bomb without expanding it', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) {
      const [prev, next] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
      bomb.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    bomb.push('dependencies: [*l]');
    const report = detectEnvironment(files({ 'environment.yml': bomb.join('\n') }));
    expect(report.refused.map(r => [r.rule, r.line])).toEqual([['unreadable', 13]]);
    const many = `dependencies:\n  - &n numpy\n${'  - *n\n'.repeat(21)}`;
    const e = expectCode(() => detectEnvironment(files({ 'environment.yml': many })), 'ENV_INVALID_FILE');
    expect(e.message).toMatch(/more than 20 aliases/);
  });

  it('refuses an environment file larger than 256 KiB as invalid', () => {
    const big = `dependencies:\n${'  - numpy\n'.repeat(27_000)}`;
    const e = expectCode(() => detectEnvironment(files({ 'environment.yml': big })), 'ENV_INVALID_FILE');
    expect(e.info).toEqual({ file: 'environment.yml' });
  });

  it('keeps __proto__ a plain key that is refused, not merged into objects', () => {
    const key = detectEnvironment(
      files({ 'environment.yml': 'dependencies: [numpy]\n__proto__: {polluted: yes}\n' })
    );
    expect(key.refused.map(r => [r.rule, r.line])).toEqual([['conda-key', 2]]);
    expect(key.install.conda?.dependencies).toEqual(['numpy']);
    const item = detectEnvironment(files({ 'environment.yml': 'dependencies:\n  - __proto__: [x]\n' }));
    expect(item.refused.map(r => [r.rule, r.line])).toEqual([['unreadable', 2]]);
    expect(({} as any).polluted).toBeUndefined();
  });

  it.each([
    ['a nested list', 'dependencies:\n  - - numpy\n', 2],
    ['a mapping other than pip', 'dependencies:\n  - conda: [x]\n', 2],
    ['a pip mapping with another key', 'dependencies:\n  - pip: [x]\n    conda: [y]\n', 2],
    ['a number where a package goes', 'channels: [x]\ndependencies:\n  - 3.10\n', 3],
    ['a string of several lines', 'dependencies:\n  - |\n    numpy\n    scipy\n', 2],
    ['an alias to a list', 'channels: &c [x]\ndependencies:\n  - *c\n', 3]
  ])('refuses a file with %s as unreadable, naming the line, installing nothing', (_what, yml, line) => {
    const report = detectEnvironment(files({ 'environment.yml': yml }));
    expect(report.kind).toBe('conda');
    expect(report.refused).toEqual([
      expect.objectContaining({ file: 'environment.yml', rule: 'unreadable', line })
    ]);
    expect(report.install.conda).toBeNull();
    expect(report.install.requirements).toEqual([]);
  });

  it('refuses variables and unknown keys', () => {
    const report = detectEnvironment(
      files({
        'environment.yml': 'dependencies: [numpy]\nvariables:\n  SECRET: x\nchannel_priority: strict\n'
      })
    );
    expect(report.refused.map(r => [r.rule, r.line])).toEqual([
      ['conda-key', 2],
      ['conda-key', 4]
    ]);
    expect(report.install.conda?.dependencies).toEqual(['numpy']);
  });

  it('refuses conda packages given by URL or path', () => {
    const report = detectEnvironment(
      files({
        'environment.yml': 'dependencies:\n  - https://x.org/pkg.tar.bz2\n  - ./local.conda\n  - numpy\n'
      })
    );
    expect(report.refused.map(r => [r.rule, r.line])).toEqual([
      ['requirement-url', 2],
      ['requirement-local', 3]
    ]);
    expect(report.install.conda?.dependencies).toEqual(['numpy']);
  });

  it('refuses python 2 in the dependencies', () => {
    const report = detectEnvironment(files({ 'environment.yml': 'dependencies:\n  - python=2.7\n' }));
    expect(rules(report)).toEqual([['environment.yml', 'python2']]);
  });

  it.each([
    ['a tab indent', 'dependencies:\n\t- numpy\n', 2],
    ['an unclosed quote', 'dependencies:\n  - "numpy\n', 2],
    ['a list as document', '- numpy\n', 1],
    ['a duplicate key', 'dependencies: [a]\ndependencies: [b]\n', 2],
    ['misaligned items', 'dependencies:\n    - a\n  - b\n', 3],
    ['a scalar where a list goes', 'dependencies: numpy\n', 1],
    ['an empty item', 'dependencies:\n  -\n', 2],
    ['an empty string item', 'channels: [x, ""]\n', 1],
    ['a second document', 'dependencies: [a]\n---\ndependencies: [b]\n', 2],
    ['an alias without its anchor', 'channels:\n  - x\ndependencies:\n  - *np\n', 4],
    ['an unknown tag', 'dependencies:\n  - !python/object numpy\n', 2],
    ['a name that is a list', 'name: [a]\n', 1]
  ])('refuses an environment.yml with %s as invalid, naming the line', (_what, yml, line) => {
    const e = expectCode(() => detectEnvironment(files({ 'environment.yml': yml })), 'ENV_INVALID_FILE');
    expect(e.info).toEqual({ file: 'environment.yml', line });
  });

  it('refuses install.R beside a conda environment (it would run R code)', () => {
    const report = detectEnvironment(
      files({ 'environment.yml': 'dependencies: [r-base]\n', 'install.R': 'x' })
    );
    expect(rules(report)).toEqual([['install.R', 'r-script']]);
    expect(report.files).toEqual(['environment.yml', 'install.R']);
  });
});

describe('detectEnvironment: Pipfile and Pipfile.lock', () => {
  const pipfile = [
    '[[source]]',
    'url = "https://pypi.org/simple"',
    'verify_ssl = true',
    'name = "pypi"',
    '',
    '[packages]',
    'numpy = "*"',
    'pandas = {version = ">=2.0", extras = ["performance"]}',
    "pywin32 = {version = '*', sys_platform = \"== 'win32'\"}",
    '',
    '[dev-packages]',
    'pytest = "==8.0.0"',
    '',
    '[requires]',
    'python_version = "3.11"'
  ].join('\n');

  it('reads packages, dev-packages and the Python version of a Pipfile', () => {
    const report = detectEnvironment(files({ Pipfile: pipfile }));
    expect(report.kind).toBe('pipenv');
    expect(report.install.python).toBe('3.11');
    expect(requirementTexts(report)).toEqual([
      'numpy',
      'pandas[performance]>=2.0',
      "pywin32; sys_platform == 'win32'",
      'pytest==8.0.0'
    ]);
    expect(report.refused).toEqual([]);
  });

  it('installs exactly the lock when there is one, taking the Python from it first', () => {
    const lock = JSON.stringify({
      _meta: {
        requires: { python_version: '3.12' },
        sources: [{ name: 'pypi', url: 'https://pypi.org/simple' }]
      },
      default: {
        numpy: { hashes: ['sha256:00'], index: 'pypi', version: '==1.26.4' },
        tomli: { markers: "python_version < '3.11'", version: '==2.0.1' }
      },
      develop: { pytest: { version: '==8.0.0' } }
    });
    const report = detectEnvironment(files({ Pipfile: pipfile, 'Pipfile.lock': lock }));
    expect(report.files).toEqual(['Pipfile', 'Pipfile.lock']);
    expect(report.install.python).toBe('3.12');
    expect(requirementTexts(report)).toEqual([
      'numpy==1.26.4',
      "tomli==2.0.1; (python_version < '3.11')",
      'pytest==8.0.0'
    ]);
  });

  it('refuses other indexes, VCS and local packages', () => {
    const text = [
      '[[source]]',
      'url = "https://download.pytorch.org/whl/cu121"',
      'name = "torch"',
      '[packages]',
      'torch = {version = "*", index = "torch"}',
      'mylib = {git = "https://github.com/org/mylib.git", ref = "main"}',
      'local = {path = ".", editable = true}',
      'ok = "*"'
    ].join('\n');
    const report = detectEnvironment(files({ Pipfile: text }));
    expect(rules(report)).toEqual([
      ['Pipfile', 'requirement-index'],
      ['Pipfile', 'requirement-index'],
      ['Pipfile', 'requirement-url'],
      ['Pipfile', 'requirement-local']
    ]);
    expect(requirementTexts(report)).toEqual(['ok']);
  });

  it.each([
    ['a package name without its value', '[packages]\nnumpy = "*"\npandas\n', 3],
    ['a package defined twice', '[packages]\nnumpy = "*"\nnumpy = "==1.26"\n', 3],
    ['an inline table not closed', '[packages]\npandas = {version = "*"\n', 2],
    ['[packages] defined twice', '[packages]\n[dev-packages]\n[packages]\n', 3],
    ['[requires] that is a date', 'requires = 2024-01-01\n[packages]\n', undefined]
  ])('refuses a Pipfile with %s as an invalid file, naming the line', (_what, text, line) => {
    const e = expectCode(() => detectEnvironment(files({ Pipfile: text })), 'ENV_INVALID_FILE');
    expect(e.info).toEqual(line === undefined ? { file: 'Pipfile' } : { file: 'Pipfile', line });
    expect(e.message).toMatch(
      line === undefined ? /^Pipfile: / : new RegExp(`^Pipfile line ${line}: .*\\(TOML\\)`)
    );
  });

  it('keeps a __proto__ package a plain key', () => {
    const e = expectCode(
      () => detectEnvironment(files({ Pipfile: '[packages]\n__proto__ = { version = "*" }\n' })),
      'ENV_INVALID_FILE'
    );
    expect(e.message).toMatch(/__proto__/);
    expect(({} as any).version).toBeUndefined();
  });

  it('refuses a lock that is not JSON as an invalid file, naming the line', () => {
    const e = expectCode(
      () => detectEnvironment(files({ 'Pipfile.lock': '{\n  "default": {\n  }\n  oops\n}' })),
      'ENV_INVALID_FILE'
    );
    expect(e.info.file).toBe('Pipfile.lock');
    expect(e.info.line).toBe(4);
  });
});

describe('environmentHash', () => {
  const base = {
    'analysis.ipynb': '{"cells": []}',
    'requirements.txt': 'numpy==1.26.4\n',
    'runtime.txt': 'python-3.11\n',
    'data/x.csv': 'a,b\n1,2\n'
  };

  it('is the sha256 of the JCS list of {path, sha256} of the counted files', () => {
    const map = files(base);
    const report = detectEnvironment(map);
    expect(report.files).toEqual(['requirements.txt', 'runtime.txt']);
    expect(report.environmentHash).toBe(expectedHash(map, report.files));
  });

  it('does not depend on the insertion order of the map', () => {
    const reversed = new Map([...files(base)].reverse());
    expect(detectEnvironment(reversed).environmentHash).toBe(detectEnvironment(files(base)).environmentHash);
  });

  it('changes when one byte of a counted file changes, not when other files change', () => {
    const before = detectEnvironment(files(base)).environmentHash;
    expect(
      detectEnvironment(files({ ...base, 'requirements.txt': 'numpy==1.26.5\n' })).environmentHash
    ).not.toBe(before);
    expect(detectEnvironment(files({ ...base, 'data/x.csv': 'changed' })).environmentHash).toBe(before);
    expect(detectEnvironment(files({ ...base, 'analysis.ipynb': '{}' })).environmentHash).toBe(before);
  });

  it('covers the folder a file is read from', () => {
    const top = detectEnvironment(files({ 'requirements.txt': 'numpy\n' }));
    const binder = detectEnvironment(files({ 'binder/requirements.txt': 'numpy\n' }));
    expect(top.environmentHash).not.toBe(binder.environmentHash);
  });
});

describe('shared vectors (tests/vectors/environments.json)', () => {
  interface Case {
    name: string;
    files: Record<string, string>;
    expected: Record<string, unknown> & {
      files?: string[];
      environmentHash?: string;
      error?: string;
      line?: number;
    };
  }
  const vectors: { cases: Case[] } = JSON.parse(
    readFileSync(join(__dirname, '../../tests/vectors/environments.json'), 'utf8')
  );

  it('has cases of every kind and both error codes', () => {
    const kinds = new Set(vectors.cases.map(c => c.expected.kind ?? c.expected.error));
    expect([...kinds].sort()).toEqual(
      [
        'ENV_CONFLICTING_BINDER_FOLDERS',
        'ENV_INVALID_FILE',
        'conda',
        'none',
        'pipenv',
        'python',
        'unsupported'
      ].sort()
    );
  });

  it.each(vectors.cases.map(c => [c.name, c]))('%s', (_name, c: Case) => {
    const map = files(c.files);
    if (c.expected.error) {
      const e = expectCode(() => detectEnvironment(map), c.expected.error as AinErrorCode);
      expect(e.info.line).toBe(c.expected.line);
      return;
    }
    const report = detectEnvironment(map);
    expect({
      kind: report.kind,
      root: report.root,
      files: report.files,
      python: report.install.python,
      requirements: requirementTexts(report),
      refused: report.refused.map(r =>
        r.line === undefined ? { file: r.file, rule: r.rule } : { file: r.file, line: r.line, rule: r.rule }
      ),
      ignored: report.ignored.map(i => ({ file: i.file, rule: i.rule })),
      environmentHash: report.environmentHash
    }).toEqual(c.expected);
    // The hash in the vector is checked against an independent computation, not only against the code.
    expect(c.expected.environmentHash).toBe(expectedHash(map, c.expected.files!));
  });
});
