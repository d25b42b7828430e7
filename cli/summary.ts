import type { PipelineResult } from '../workflows/pipeline';

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function padLeft(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

/** Formats rows as a plain-text table with a header rule; numbers are right-aligned. */
export function formatTable(header: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? cell.toLocaleString('en-US') : cell)));
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => (row[column] ?? '').length)));
  const numeric = header.map((_, column) => rows.every((row) => typeof row[column] === 'number'));
  const line = (row: string[]) =>
    row.map((cell, column) => (numeric[column] ? padLeft(cell, widths[column] ?? 0) : pad(cell, widths[column] ?? 0))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.map(line)].join('\n');
}

/** Prints the run summary: stage table, row accounting and where the outputs are. */
export function printSummary(result: PipelineResult, link?: string): void {
  const out: string[] = [];
  out.push('', `Run ${result.workflowId}${result.runName ? ` (${result.runName})` : ''} finished.`, '');
  const stageRows = Object.values(result.stages).map((stage) => [
    stage.stage,
    stage.reused ? 'reused' : 'ran',
    Object.entries(stage.rows)
      .map(([table, rows]) => `${table} ${rows.toLocaleString('en-US')}`)
      .join(', '),
    `${(stage.durationMs / 1000).toFixed(1)} s`,
  ]);
  out.push(formatTable(['stage', 'status', 'rows written', 'time'], stageRows), '');

  const a = result.accounting;
  out.push(
    formatTable(
      ['rows', 'count'],
      [
        ['read from sources', a.rowsRead],
        ['rejected (see rejects table)', a.rejected],
        ['exact duplicates removed', a.duplicates],
        ['empty texts removed', a.empty],
        ['dropped: too many tokens', a.droppedTooLong],
        ['dropped: no word tokens', a.droppedNoTokens],
        ['kept (train + test)', a.kept],
      ],
    ),
  );
  out.push(`Row accounting: ${a.balanced ? 'balanced' : 'MISMATCH'} (${a.accountedFor.toLocaleString('en-US')} of ${a.rowsRead.toLocaleString('en-US')} rows accounted for)`, '');

  for (const stage of Object.values(result.stages)) out.push(`${stage.stage} manifest: ${stage.manifestKey}`);
  if (link) out.push('', `Web UI: ${link}`);
  process.stdout.write(out.join('\n') + '\n');
}
