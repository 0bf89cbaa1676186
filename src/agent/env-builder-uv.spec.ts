import { detectEnvironment } from '../core/environment';
import { isAinError } from '../core/errors';
import { UvEnvironmentBuilder } from './env-builder-uv';

const encoder = new TextEncoder();
const files = (f: Record<string, string>) =>
  new Map(Object.entries(f).map(([k, v]) => [k, encoder.encode(v)]));

/** Builds with a uv that does not exist: a refusal comes first, anything accepted fails as a build instead. */
async function attempt(f: Record<string, string>) {
  const events: string[] = [];
  const builder = new UvEnvironmentBuilder({ cacheDir: '/nonexistent/ain-envs', uv: '/nonexistent/uv' });
  const error = await builder
    .build(detectEnvironment(files(f)), files(f), type => events.push(type))
    .then(
      () => undefined,
      (e: unknown) => e
    );
  return { error: error as Error, events };
}

describe('UvEnvironmentBuilder refusals', () => {
  it('refuses conda packages it cannot install from PyPI, before building, with the reason and the advice', async () => {
    const { error, events } = await attempt({
      'environment.yml':
        'channels: [conda-forge]\ndependencies:\n  - python=3.11\n  - r-base\n  - conda-forge::gdal\n  - pip\n  - pip: [requests]\n'
    });
    expect(isAinError(error, 'AGENT_ENV_REFUSED')).toBe(true);
    expect(error.message).toContain('the conda packages r-base, conda-forge::gdal come from conda channels');
    expect(error.message).toContain('list PyPI packages under "- pip:"');
    expect(events).toEqual(['environment-failed']);
  });

  it('honours python= and pip as conda dependencies (it goes on to build)', async () => {
    const { error, events } = await attempt({
      'environment.yml': 'dependencies:\n  - python=3.11\n  - pip\n  - pip: [requests]\n'
    });
    expect(isAinError(error, 'AGENT_ENV_BUILD_FAILED')).toBe(true);
    expect(events).toContain('environment-building');
  });
});
