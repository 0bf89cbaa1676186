/**
 * Node only: encrypted JSON keystores (the Web3 Secret Storage format that geth, foundry `cast wallet` and ethers
 * write), the way a provider agent or the CLI holds a key on a chain where tokens have value.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { HDNodeWallet, Wallet, encryptKeystoreJson } from 'ethers';
import { makeError } from '../core/errors.js';
import { IWalletAdapter, unlockedWallet } from './wallet.js';

/** Decrypts the keystore at `file`; throws CHAIN_WALLET_REFUSED naming the file on a wrong password. */
export async function loadKeystore(file: string, password: string): Promise<Wallet> {
  let json: string;
  try {
    json = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw makeError('CHAIN_WALLET_REFUSED', `Cannot read the keystore ${file}: ${(e as Error).message}.`, {
      file
    });
  }
  let wallet: Wallet | HDNodeWallet;
  try {
    wallet = await Wallet.fromEncryptedJson(json, password);
  } catch (e) {
    throw makeError(
      'CHAIN_WALLET_REFUSED',
      `Cannot decrypt the keystore ${file}: ${(e as Error).message}. Check the password.`,
      { file }
    );
  }
  return new Wallet(wallet.privateKey);
}

/**
 * Encrypts `wallet` into `file` (mode 0600, parent folders created). `scryptN` can be lowered in tests; the
 * default is ethers' (2^17), which takes seconds on purpose.
 */
export async function saveKeystore(
  file: string,
  wallet: Wallet,
  password: string,
  options: { scryptN?: number } = {}
): Promise<void> {
  const json = await encryptKeystoreJson(
    { address: wallet.address, privateKey: wallet.privateKey },
    password,
    options.scryptN ? { scrypt: { N: options.scryptN } } : {}
  );
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, json, { mode: 0o600 });
}

/** A wallet adapter over the keystore at `file`. */
export async function keystoreWallet(file: string, password: string): Promise<IWalletAdapter> {
  return unlockedWallet(await loadKeystore(file, password));
}
