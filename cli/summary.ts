import { branchOf } from '../workflows/branches';
import { classifierComparisonTable, strategyComparisonTable, toText, type Table } from '../eval/tables';
import type { Evaluation } from '../eval/evaluation';
import type { PipelineResult } from '../workflows/pipeline';

function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** Formats the run summary: stages, row accounting, evaluation tables and where the outputs are. */
export function formatSummary(
  result: PipelineResult,
  links: { webUi?: string; localReport?: string },
): string {
  const out: string[] = [];
  out.push('', `Run ${result.workflowId}${result.runName ? ` (${result.runName})` : ''} finished.`, '');
  const stages: Table = {
    header: ['stage', 'status', 'rows written', 'time'],
    rows: Object.entries(result.stages).map(([name, stage]) => [
      name,
      stage.reused ? 'reused' : 'ran',
      Object.entries(stage.rows)
        .map(([table, rows]) => `${table} ${count(rows)}`)
        .join(', '),
      `${(stage.durationMs / 1000).toFixed(1)} s`,
    ]),
    numeric: [false, false, false, true],
  };
  out.push(toText(stages), '');

  const a = result.accounting;
  const accounting: Table = {
    header: ['rows', 'count'],
    rows: [
      ['read from sources', a.rowsRead],
      ['rejected (see the fetch rejects table)', a.rejected],
      ['exact duplicates removed', a.duplicates],
      ['empty texts removed', a.empty],
      ['dropped: too many tokens', a.droppedTooLong],
      ['dropped: no word tokens', a.droppedNoTokens],
      ['kept (train + test)', a.kept],
    ].map(([label, value]) => [String(label), count(Number(value))]),
    numeric: [false, true],
  };
  out.push(toText(accounting));
  out.push(
    `Row accounting: ${a.balanced ? 'balanced' : 'MISMATCH'} (${count(a.accountedFor)} of ${count(a.rowsRead)} rows accounted for)`,
    '',
  );

  for (const [name, stage] of Object.entries(result.stages)) {
    const strategy = branchOf(name, 'train');
    if (!strategy) continue;
    const counts = stage.counts as { steps?: number; finalDLoss?: number; finalGLoss?: number };
    out.push(
      `Training ${strategy}: ${counts.steps} steps on ${String(stage.runtime.backend)}, final D loss ${counts.finalDLoss?.toFixed(3)}, G loss ${counts.finalGLoss?.toFixed(3)}; loss plot ${stage.artifacts.lossPlot}`,
    );
  }
  out.push('');
  // Runs made before the strategies ran side by side stored one evaluation, of the scalar GAN.
  const legacy = (result.report as { evaluation?: Evaluation } | undefined)?.evaluation;
  const evaluations =
    result.report?.evaluations ?? (legacy ? [{ strategy: 'scalar', evaluation: legacy }] : []);
  if (evaluations.length > 0) {
    out.push(
      'Text metrics, one GAN column per embedding strategy (real text is the reference):',
      toText(strategyComparisonTable(evaluations)),
      '',
      "Discriminators per strategy (the study's table) and the discriminator-shaped two-sample tests:",
      toText(classifierComparisonTable(evaluations)),
      '',
    );
  }
  for (const note of Object.values(result.strategies?.skipped ?? {})) out.push(note, '');
  if (result.report) out.push(`Report: s3 key ${result.report.htmlKey}`);
  if (links.localReport) out.push(`Report, local copy: ${links.localReport}`);
  if (links.webUi) out.push(`Web UI: ${links.webUi}`);
  return out.join('\n') + '\n';
}
