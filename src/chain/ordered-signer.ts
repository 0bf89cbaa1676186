/**
 * A local key's signer for many transactions at once (the agent anchors checkpoints of every run side by side).
 *
 * Sends of one key must take turns: each takes the next nonce after the one before it was broadcast. A plain
 * ethers Wallet's turn costs five round trips (nonce, gas estimate, three fee reads, then the broadcast), and under
 * load the agent's checkpoints fell behind the receipts. Here only the nonce read, the signature and the broadcast
 * take turns; gas and fees are read side by side before.
 *
 * The nonce is counted locally only within a burst (while turns wait behind each other), and read from the chain
 * (whose pending count includes what we broadcast) at the start of every burst and after any failed broadcast.
 * A count kept for good, as ethers' NonceManager keeps it, runs ahead of the chain when a reorganisation drops
 * our transactions (the next one then waits in the pool forever behind the gap), when another process sends with
 * the same key, or, with NonceManager, when a transaction fails its gas estimate after taking a nonce.
 */
import {
  AbstractSigner,
  Provider,
  Signer,
  TransactionRequest,
  TransactionResponse,
  TypedDataDomain,
  TypedDataField,
  isError
} from 'ethers';

/** A signer whose concurrent sends get consecutive nonces without waiting for each other's gas estimates. */
export class OrderedSigner extends AbstractSigner {
  readonly signer: Signer;
  /** The broadcast in flight: the next one waits for it. */
  private turn: Promise<unknown> = Promise.resolve();
  /** Sends waiting for or taking their turn; the burst ends when none is left. */
  private waiting = 0;
  /** The nonce after the last broadcast of this burst (null: read it from the chain). */
  private next: number | null = null;

  constructor(signer: Signer) {
    super(signer.provider);
    this.signer = signer;
  }

  getAddress(): Promise<string> {
    return this.signer.getAddress();
  }

  connect(provider: Provider | null): OrderedSigner {
    return new OrderedSigner(this.signer.connect(provider));
  }

  signTransaction(tx: TransactionRequest): Promise<string> {
    return this.signer.signTransaction(tx);
  }

  signMessage(message: string | Uint8Array): Promise<string> {
    return this.signer.signMessage(message);
  }

  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>
  ): Promise<string> {
    return this.signer.signTypedData(domain, types, value);
  }

  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    // A transaction that reverts fails here, before its turn.
    const [gasLimit, fees] = await Promise.all([tx.gasLimit ?? this.signer.estimateGas(tx), this.fees(tx)]);
    this.waiting++;
    const sent = this.turn.then(() => this.broadcast({ ...tx, ...fees, gasLimit }, true));
    this.turn = sent
      .catch(() => undefined)
      .then(() => {
        if (--this.waiting === 0) {
          this.next = null;
        }
      });
    return sent;
  }

  private async broadcast(tx: TransactionRequest, retry: boolean): Promise<TransactionResponse> {
    const nonce = this.next ?? (await this.signer.getNonce('pending'));
    try {
      const response = await this.signer.sendTransaction({ ...tx, nonce });
      this.next = nonce + 1;
      return response;
    } catch (e) {
      // Whether the node took the nonce is unknown: ask the chain.
      this.next = null;
      if (retry && (isError(e, 'NONCE_EXPIRED') || isError(e, 'REPLACEMENT_UNDERPRICED'))) {
        // Another sender of this key (another process or session) took that nonce meanwhile.
        return this.broadcast(tx, false);
      }
      throw e;
    }
  }

  /** The fee fields the transaction lacks, as ethers would fill them (EIP-1559 where the chain supports it). */
  private async fees(tx: TransactionRequest): Promise<Partial<TransactionRequest>> {
    const given = (v: unknown) => v !== null && v !== undefined;
    if (given(tx.gasPrice) || given(tx.maxFeePerGas) || given(tx.maxPriorityFeePerGas)) {
      return {};
    }
    const data = await this.provider!.getFeeData();
    if (data.maxFeePerGas !== null && data.maxPriorityFeePerGas !== null) {
      return { maxFeePerGas: data.maxFeePerGas, maxPriorityFeePerGas: data.maxPriorityFeePerGas };
    }
    return data.gasPrice !== null ? { gasPrice: data.gasPrice } : {};
  }
}
