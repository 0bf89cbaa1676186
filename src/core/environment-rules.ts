/**
 * The build packs a provider can honour (conda, pipenv, Python) and the files that apply to every build pack
 * (`apt.txt`, `postBuild`, `start`): what each reads from the folder, what it installs, and what it refuses, with
 * the reason and what to do instead.
 */
import { readCondaEnvironment } from './environment-conda.js';
import { readPipenv } from './environment-pipenv.js';
import { pythonVersion, readPyProject, Runtime } from './environment-python.js';
import { EnvironmentFolder, invalidFile, readText } from './environment-report.js';
import { readRequirement, readRequirementsTxt } from './environment-requirements.js';

/** The conda build pack: `environment.yml` (or `environment.yaml`), with `install.R` refused beside it. */
export function condaBuildPack(folder: EnvironmentFolder, name: string): void {
  folder.count(name);
  folder.decidedBy = folder.path(name);
  const conda = readCondaEnvironment(folder.path(name), folder.bytes(name), folder.findings);
  if (conda) {
    Object.assign(folder.install, {
      python: conda.python,
      requirements: conda.requirements,
      conda: conda.conda
    });
  }
  if (folder.has('install.R')) {
    folder.refuse(
      'install.R',
      'r-script',
      'install.R runs R code at build time, which a provider does not do',
      'Install R packages elsewhere; a provider builds Python environments.'
    );
  }
}

/** The pipenv build pack: `Pipfile` and `Pipfile.lock`. */
export function pipenvBuildPack(folder: EnvironmentFolder): void {
  const [pipfile, lock] = ['Pipfile', 'Pipfile.lock'].map(name => {
    if (!folder.has(name)) {
      return null;
    }
    folder.count(name);
    folder.decidedBy = folder.path(name);
    return { file: folder.path(name), bytes: folder.bytes(name) };
  });
  Object.assign(folder.install, readPipenv(pipfile, lock, folder.findings));
}

/** The Python build pack: `runtime.txt`, `requirements.txt`, `setup.py`, `pyproject.toml`. True when any counts. */
export function pythonBuildPack(folder: EnvironmentFolder, runtime: Runtime | null): boolean {
  if (runtime) {
    folder.count('runtime.txt');
    if (runtime.name === 'python') {
      folder.install.python = pythonVersion(
        runtime.version ?? '3',
        folder.path('runtime.txt'),
        folder.findings
      );
    } else {
      folder.decidedBy = folder.path('runtime.txt'); // repo2docker skips a Pipfile then
      folder.refuse(
        'runtime.txt',
        'runtime',
        `runtime.txt asks for ${runtime.name}, and providers run Python 3 only`,
        'Write python-3.x (e.g. python-3.11) in runtime.txt, or delete it.'
      );
    }
  }
  if (folder.has('requirements.txt')) {
    folder.count('requirements.txt');
    const file = folder.path('requirements.txt');
    folder.install.requirements.push(
      ...readRequirementsTxt(file, folder.bytes('requirements.txt'), folder.findings)
    );
  }
  if (folder.has('setup.py')) {
    folder.refuse(
      'setup.py',
      'local-package',
      'setup.py makes this folder a package that repo2docker would build and install (pip install .), and a ' +
        'provider runs no setup.py and builds no local package',
      'List the packages the notebook needs in requirements.txt; keep local modules beside the notebook and ' +
        'declare them as data files.'
    );
  }
  if (folder.has('pyproject.toml')) {
    Private.pyproject(folder);
  }
  return folder.counted.size > 0;
}

/** `apt.txt`, `postBuild` and `start`: they apply to every build pack but a Dockerfile, and none is honoured. */
export function commonFiles(folder: EnvironmentFolder): void {
  if (folder.has('apt.txt')) {
    const file = folder.path('apt.txt');
    const packages = readText(file, folder.bytes('apt.txt'))
      .split('\n')
      .map((line, i) => ({ name: line.split('#')[0].trim(), line: i + 1 }))
      .filter(p => p.name);
    // repo2docker's own check, against shell injection in its apt-get command line.
    const bad = packages.find(p => !/^[a-z0-9.+-]+/.test(p.name));
    if (bad) {
      throw invalidFile(file, bad.line, `"${bad.name}" is not an apt package name`);
    }
    folder.refuse(
      'apt.txt',
      'apt',
      'apt.txt asks for system packages, and a provider installs none (it builds a uv venv, without root)',
      'Prefer PyPI packages that ship what you need in their wheels, or run this notebook where these ' +
        'packages are installed.',
      packages.map(p => p.name)
    );
  }
  if (folder.has('postBuild')) {
    folder.refuse(
      'postBuild',
      'post-build',
      'postBuild runs a script after the build, and a provider runs no build scripts',
      'Do this setup in the first cell of the notebook, or install what it needs through requirements.txt.'
    );
  }
  if (folder.has('start')) {
    folder.refuse(
      'start',
      'start',
      'start wraps the launch of the kernel in a script, which a provider does not run',
      'Set environment variables or run setup code in the first cell of the notebook instead.'
    );
  }
}

namespace Private {
  /**
   * repo2docker installs a pyproject.toml only as a package ([project] and [build-system]: `pip install .`); a
   * provider installs its [project].dependencies from PyPI and refuses to build the package itself.
   */
  export function pyproject(folder: EnvironmentFolder): void {
    const file = folder.path('pyproject.toml');
    const project = readPyProject(file, folder.bytes('pyproject.toml'));
    if (!project.hasProject) {
      folder.ignore(
        'pyproject.toml',
        'not-installed',
        'pyproject.toml has no [project] table, so it describes no environment'
      );
      return;
    }
    folder.count('pyproject.toml');
    folder.install.requiresPython = project.requiresPython;
    if (!project.isPackage) {
      if (project.dependencies.length) {
        folder.findings.ignore(
          file,
          'not-installed',
          '[project].dependencies are not installed: without [build-system] repo2docker does not install this ' +
            'project; list them in requirements.txt'
        );
      }
      return;
    }
    if (project.dynamicDependencies) {
      folder.findings.refuse({
        file,
        rule: 'pyproject-dynamic',
        reason: 'the dependencies are computed at build time ([project].dynamic), so they cannot be read',
        advice: 'List the dependencies in [project].dependencies or in requirements.txt.'
      });
    } else {
      for (const text of project.dependencies) {
        const requirement = readRequirement(text.trim(), file, undefined, folder.findings);
        if (requirement) {
          folder.install.requirements.push(requirement);
        }
      }
    }
    folder.findings.refuse({
      file,
      rule: 'local-package',
      reason:
        'pyproject.toml makes this folder a package that repo2docker would build and install (pip install .); ' +
        'its [project].dependencies are installed, but a provider does not build the package itself',
      advice:
        'Publish the package to PyPI and require it, or keep its modules beside the notebook and declare them ' +
        'as data files.'
    });
  }
}
