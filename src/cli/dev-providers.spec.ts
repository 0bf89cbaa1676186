import { DEV_FAULTS, defaultDevProviders, faultDevProviders } from './dev-providers.js';

describe('ain dev providers', () => {
  it('adds one cheating provider per fault mode after the honest ones, on accounts of their own', () => {
    const honest = defaultDevProviders(8601);
    const cheats = faultDevProviders(['tamper-outputs', 'equivocate'], 8603);
    expect(cheats).toEqual([
      { account: 4, port: 8603, price: '1', name: 'cheat-tamper-outputs', fault: 'tamper-outputs' },
      { account: 5, port: 8604, price: '1', name: 'cheat-equivocate', fault: 'equivocate' }
    ]);
    const accounts = [...honest, ...cheats].map(p => p.account);
    expect(new Set(accounts).size).toBe(accounts.length);
    expect(accounts).not.toContain(3); // the JupyterLab client's account
    expect(DEV_FAULTS).toEqual(['tamper-outputs', 'skip-execution', 'equivocate', 'withhold-anchor']);
  });
});
