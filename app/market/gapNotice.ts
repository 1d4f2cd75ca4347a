/**
 * What a trader is told when a catch-up could not replay what was missed. The prices and the
 * day's figures on screen are current again either way; the trade list is not whole, and says so.
 */
export function gapNotice(reason: string, tickers: readonly string[]): string | undefined {
  if (tickers.length === 0) return undefined;
  const names =
    tickers.length > 4
      ? `${tickers.slice(0, 4).join(', ')} and ${tickers.length - 4} more`
      : tickers.join(', ');
  if (reason === 'gap_too_large')
    return `${names}: trades missed while the connection was down could not be replayed; prices are current, the trade list has a gap`;
  if (reason === 'rewound')
    return `${names}: the server restarted and lost its last trades before storing them; trades shown from then on are the server's, the trade list has a gap`;
  return undefined;
}
