import { type Message, msg } from '../i18n/i18n.ts';

/**
 * What a trader is told when a catch-up could not replay what was missed. The prices and the
 * day's figures on screen are current again either way; the trade list is not whole, and says so.
 */
export function gapNotice(reason: string, tickers: readonly string[]): Message | undefined {
  if (tickers.length === 0) return undefined;
  const names =
    tickers.length > 4
      ? msg('gap.more', { names: tickers.slice(0, 4).join(', '), n: tickers.length - 4 })
      : tickers.join(', ');
  if (reason === 'gap_too_large') return msg('gap.tooLarge', { names });
  if (reason === 'rewound') return msg('gap.rewound', { names });
  return undefined;
}
