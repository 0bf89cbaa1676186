/**
 * The body of a badge's details dialog: what a person needs to check the claim themselves — the provider, the
 * receipt's fields, the Merkle proof and the anchoring transaction, and what was compared. Built with DOM text
 * nodes only (never innerHTML: every value comes from a notebook someone else may have written).
 */
import { BADGE_STATE_TEXT } from './evidence-text.js';
import type { ICellBadge } from './evidence-model.js';
import type { IAinVerificationRecord } from './tokens.js';

/** Renders the details of `badge`. */
export function renderBadgeDetails(badge: ICellBadge): HTMLElement {
  const root = document.createElement('div');
  root.className = 'jp-AinEvidenceDetails';
  const summary = el('p', 'jp-AinEvidenceDetails-summary', badge.detail);
  summary.dataset.state = badge.state;
  root.appendChild(summary);
  root.appendChild(el('p', 'jp-AinEvidenceDetails-meaning', BADGE_STATE_TEXT[badge.state]));
  const r = badge.receipt;
  if (!r) {
    return root;
  }
  const receipt = r.signed.receipt;
  section(root, 'Provider and run', [
    ['Provider', badge.run?.provider ?? 'unknown (no run record)'],
    ['Endpoint', badge.run?.endpoint ?? ''],
    ['Chain', badge.run ? `${badge.run.chainId}, RunRegistry ${badge.run.runRegistry}` : ''],
    ['Run id', r.runId],
    ['Bundle hash', badge.run?.bundleHash ?? '']
  ]);
  section(root, 'Receipt', [
    ['Step', String(receipt.step)],
    ['Code hash (receipt)', receipt.codeHash],
    ['Code hash (cell now)', badge.currentCodeHash ?? ''],
    ['Output hash', receipt.outputHash],
    ['Artifacts hash', receipt.artifactsHash],
    ['Previous', receipt.prev],
    ['Started', new Date(receipt.startedAt).toISOString()],
    ['Ended', new Date(receipt.endedAt).toISOString()],
    ['Digest', r.digest],
    ['Signature', r.signed.signature],
    [
      'Signature check',
      badge.check ? (badge.check.signature ?? 'valid: signed by the provider') : 'not checked yet'
    ],
    ['Digest and chain', badge.check ? (badge.check.integrity ?? 'consistent') : 'not checked yet']
  ]);
  const a = badge.check?.anchored;
  section(root, 'Anchoring', [
    ['Status', badge.check?.anchorNote ?? 'not checked yet'],
    ...(a
      ? ([
          ['Checkpoint', `${a.checkpoint} (receipts 0-${a.receiptCount - 1})`],
          ['Root', a.root],
          ['Transaction', a.txHash ?? ''],
          ['Block', a.blockNumber === undefined ? '' : String(a.blockNumber)],
          ['Merkle proof', a.proof.length ? a.proof.join('\n') : '(single leaf: the leaf is the root)']
        ] as [string, string][])
      : [])
  ]);
  if (badge.verifications.length) {
    section(
      root,
      'What was compared',
      badge.verifications.map(v => [`${v.level} (${v.at})`, verificationText(v)])
    );
  }
  return root;
}

/** A verification in words: what was compared, where, the objective's two numbers, the attestation. */
export function verificationText(v: IAinVerificationRecord): string {
  const lines = [v.detail];
  if (v.objective) {
    const n = (x: number | null) => (x === null ? 'none' : String(x));
    lines.push(
      `Objective ${v.objective.rule}: recomputed ${n(v.objective.metric)}, claimed ${n(v.objective.claimed)}`
    );
  }
  if (v.method || v.executor) {
    lines.push(
      `${v.method ?? 'verification'}${v.executor ? ` on ${v.executor}` : ''}${v.verdict ? `: ${v.verdict}` : ''}`
    );
  }
  if (v.txHash) {
    lines.push(`On-chain: transaction ${v.txHash}${v.verifier ? ` (verifier ${v.verifier})` : ''}`);
  }
  return lines.join('\n');
}

function section(root: HTMLElement, title: string, rows: [string, string][]): void {
  root.appendChild(el('h3', 'jp-AinEvidenceDetails-title', title));
  const table = document.createElement('table');
  table.className = 'jp-AinEvidenceDetails-table';
  for (const [name, value] of rows) {
    if (!value) {
      continue;
    }
    const tr = document.createElement('tr');
    tr.appendChild(el('th', '', name));
    tr.appendChild(el('td', 'jp-AinEvidenceDetails-value', value));
    table.appendChild(tr);
  }
  root.appendChild(table);
}

function el(tag: string, className: string, text: string): HTMLElement {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  node.textContent = text;
  return node;
}
