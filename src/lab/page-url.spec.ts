import { pageUrl } from './page-url';

describe('pageUrl', () => {
  const page = 'https://hub.example.org/user/ann-repo-1x2y/lab/tree/examples/a.ipynb?ain-run=1:0x';

  it('makes server paths absolute against the page origin', () => {
    expect(pageUrl('/user/ann-repo-1x2y/proxy/8545/', page)).toBe(
      'https://hub.example.org/user/ann-repo-1x2y/proxy/8545/'
    );
    expect(pageUrl('/user/ann-repo-1x2y/proxy/8601', page)).toBe(
      'https://hub.example.org/user/ann-repo-1x2y/proxy/8601'
    );
  });

  it('leaves absolute and protocol-relative URLs alone, and everything without a page', () => {
    expect(pageUrl('http://127.0.0.1:8545', page)).toBe('http://127.0.0.1:8545');
    expect(pageUrl('//evil.example/x', page)).toBe('//evil.example/x');
    expect(pageUrl('/proxy/8545/', undefined)).toBe('/proxy/8545/');
  });
});
