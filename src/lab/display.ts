/**
 * How the extension shows things people read everywhere: the AI Network mark, token amounts, durations, hashes,
 * provider choices.
 * One definition each, so the picker, the sidebar, the dialogs and the status bar agree.
 */
import { LabIcon } from '@jupyterlab/ui-components';
import { formatUnits } from 'ethers';

/** The AI Network glyph (colours from the theme, so dark mode works). */
export const ainIcon = new LabIcon({
  name: 'jupyterlab-ain:network',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="none" ' +
    'stroke="#616161" stroke-width="2"><circle cx="12" cy="5" r="3"/><circle cx="5" cy="18" r="3"/>' +
    '<circle cx="19" cy="18" r="3"/><path d="M10.5 7.5 6.5 15.5M13.5 7.5l4 8M8 18h8"/></g></svg>'
});

/** Whole tokens from base units (18 decimals, decimal string): "1", "0.5", "2.25", at most 4 decimals. */
export function formatTokens(baseUnits: string): string {
  try {
    const [whole, frac = ''] = formatUnits(BigInt(baseUnits), 18).split('.');
    const f = frac.replace(/0+$/, '').slice(0, 4);
    return f ? `${whole}.${f}` : whole;
  } catch {
    return baseUnits;
  }
}

/** A duration as h:mm:ss. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** A long hex string (address, hash) shortened for a narrow column: 0x12ab34…cdef. */
export function shortHex(hex: string): string {
  return hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex;
}

/**
 * A provider's row in a choice of providers: a label (class `className`, `data-provider` = its address) holding a
 * radio whose group is `className` too and whose value is the address; the caller adds what the row shows.
 */
export function providerChoice(
  className: string,
  address: string,
  checked: boolean
): { row: HTMLLabelElement; radio: HTMLInputElement } {
  const row = document.createElement('label');
  row.className = className;
  row.dataset.provider = address;
  const radio = document.createElement('input');
  radio.type = 'radio';
  radio.name = className;
  radio.value = address;
  radio.checked = checked;
  row.appendChild(radio);
  return { row, radio };
}
