/** What each badge state means, in the words the details dialog and the sidebar use. */
import type { BadgeState } from './tokens.js';

/** One sentence per badge state. */
export const BADGE_STATE_TEXT: Record<BadgeState, string> = {
  none: 'This cell carries no checked evidence.',
  running: 'The cell is executing on the provider.',
  signed: "The provider's EIP-712 signature over this cell's receipt is valid.",
  anchored: 'The receipt is signed and proven by a Merkle proof under a checkpoint root anchored on-chain.',
  'checkpoint-checked':
    'The cell lies in a randomly sampled checkpoint that a verifier re-executed: its outputs matched. The detail ' +
    'says how many checkpoints were sampled and the detection probability that buys.',
  reproduced: 'Another execution reproduced this cell and the outputs matched.',
  'objective-verified': "An objective function (e.g. a held-out metric) confirmed this cell's result.",
  mismatch: "A reproduction or objective check disagreed with the provider's result.",
  invalid:
    'The evidence fails a check: a bad signature, an altered receipt, a broken chain or a contradicted root.',
  stale: "The cell's code changed after this receipt was signed: the evidence is about other code."
};
