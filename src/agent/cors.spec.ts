import { corsDecision, originAllowed, parseAllowedOrigins, upgradeOriginAllowed } from './cors.js';

const LAB = 'http://127.0.0.1:8888';

describe('agent CORS rules', () => {
  it('parses repeated and comma-separated origins, dropping trailing slashes', () => {
    expect(parseAllowedOrigins(['http://a:1/', ' http://b:2, http://c:3', ''])).toEqual([
      'http://a:1',
      'http://b:2',
      'http://c:3'
    ]);
  });

  it('allows only configured origins (or *)', () => {
    expect(originAllowed(LAB, [LAB])).toBe(true);
    expect(originAllowed('http://evil.example', [LAB])).toBe(false);
    expect(originAllowed('http://evil.example', ['*'])).toBe(true);
    expect(originAllowed(LAB, [])).toBe(false);
  });

  it('answers a preflight from an allowed origin with the methods and the headers it asked for', () => {
    const d = corsDecision(
      'OPTIONS',
      {
        origin: LAB,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type'
      },
      [LAB]
    );
    expect(d.preflight).toBe(true);
    expect(d.status).toBe(204);
    expect(d.headers['access-control-allow-origin']).toBe(LAB);
    expect(d.headers['access-control-allow-headers']).toBe('authorization,content-type');
    expect(d.headers['access-control-allow-methods']).toContain('PATCH');
  });

  it('refuses a preflight from another origin without CORS headers', () => {
    const d = corsDecision(
      'OPTIONS',
      { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
      [LAB]
    );
    expect(d).toEqual({ headers: {}, preflight: true, status: 403 });
  });

  it('adds the allow-origin header to simple requests and leaves same-origin requests alone', () => {
    expect(corsDecision('GET', { origin: LAB }, [LAB]).headers).toEqual({
      'access-control-allow-origin': LAB,
      vary: 'Origin'
    });
    expect(corsDecision('GET', {}, [LAB])).toEqual({ headers: {}, preflight: false, status: 403 });
  });

  it('checks the Origin of WebSocket upgrades; clients without one pass', () => {
    expect(upgradeOriginAllowed({ origin: LAB }, [LAB])).toBe(true);
    expect(upgradeOriginAllowed({ origin: 'http://evil.example' }, [LAB])).toBe(false);
    expect(upgradeOriginAllowed({}, [])).toBe(true);
  });
});
