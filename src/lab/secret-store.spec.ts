import { ISecretStorage, SamplingSecretStore } from './secret-store.js';

const RUN = { chainId: 31337, runRegistry: '0xABCDEF', runId: ('0x' + 'ab'.repeat(32)) as `0x${string}` };
const SECRET = ('0x' + '5e'.repeat(32)) as `0x${string}`;

function memory(): ISecretStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: k => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: k => void map.delete(k)
  };
}

describe('the sampling secret store', () => {
  it('keeps a secret per chain, contract and run until it is deleted', () => {
    const storage = memory();
    const store = new SamplingSecretStore(storage);
    expect(store.get(RUN)).toBeNull();
    expect(store.put(RUN, SECRET)).toBe(true);
    expect(store.get(RUN)).toBe(SECRET);
    expect(store.get({ ...RUN, runRegistry: '0xabcdef' })).toBe(SECRET);
    expect(store.get({ ...RUN, chainId: 1 })).toBeNull();
    store.delete(RUN);
    expect(store.get(RUN)).toBeNull();
    expect(storage.map.size).toBe(0);
  });

  it('says so when there is no storage, and ignores what is not a 32-byte hex secret', () => {
    expect(new SamplingSecretStore(null).put(RUN, SECRET)).toBe(false);
    const storage = memory();
    const store = new SamplingSecretStore(storage);
    store.put(RUN, SECRET);
    const [key] = storage.map.keys();
    storage.map.set(key, 'not a secret');
    expect(store.get(RUN)).toBeNull();
  });

  it('survives a storage that throws (disabled or full)', () => {
    const broken: ISecretStorage = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
      removeItem: () => {
        throw new Error('denied');
      }
    };
    const store = new SamplingSecretStore(broken);
    expect(store.put(RUN, SECRET)).toBe(false);
    expect(store.get(RUN)).toBeNull();
    expect(() => store.delete(RUN)).not.toThrow();
  });
});
