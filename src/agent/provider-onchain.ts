/**
 * The provider's offer on-chain: registered on the first start, updated when the endpoint, price or capabilities
 * changed, and left alone otherwise, so restarting the agent sends no transaction (and spends no gas) when nothing
 * changed. The capabilities go on-chain as a hash (canonical JSON, RFC 8785) with the URL where the full document
 * is served (GET /info), so clients can check that what the agent serves is what it committed to.
 */
import { canonicalHash } from '../core/canonical-json.js';
import type { IProviderOffer, ProviderRegistryClient } from '../chain/provider-registry.js';

/** What ensureRegistered did. */
export type RegistrationOutcome = 'registered' | 'updated' | 'unchanged';

/** The on-chain offer of an agent reachable at `publicUrl` (no trailing slash). */
export function providerOffer(
  publicUrl: string,
  pricePerHour: bigint,
  capabilities: Record<string, unknown>
): IProviderOffer {
  return {
    endpoint: publicUrl,
    pricePerHour,
    capabilitiesHash: canonicalHash(capabilities),
    capabilitiesURI: `${publicUrl}/info`
  };
}

/** Registers (staking `stake`) or updates the provider so that its on-chain offer is `offer`; idempotent. */
export async function ensureRegistered(
  registry: ProviderRegistryClient,
  offer: IProviderOffer,
  stake: bigint
): Promise<{ outcome: RegistrationOutcome; txHash?: string }> {
  const me = await registry.session.address();
  const current = await registry.getProvider(me);
  if (!current.registered) {
    const tx = await registry.register(offer, stake);
    return { outcome: 'registered', txHash: tx.hash };
  }
  const same =
    current.endpoint === offer.endpoint &&
    current.pricePerHour === offer.pricePerHour &&
    current.capabilitiesHash.toLowerCase() === offer.capabilitiesHash.toLowerCase() &&
    current.capabilitiesURI === offer.capabilitiesURI;
  if (same) {
    return { outcome: 'unchanged' };
  }
  const tx = await registry.update(offer);
  return { outcome: 'updated', txHash: tx.hash };
}
