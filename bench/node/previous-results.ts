/**
 * Carries results over from the generated block of an earlier run, so that a run that skips a
 * measurement keeps that measurement's last tables in BENCHMARKS.md instead of dropping them.
 *
 * The block is Markdown that report.ts wrote: sections start with a "### " heading, the run's time
 * is on the line "Run <time>, ...", its command in the first sh code block, and its load on the
 * line "One-minute load average <start> at the start and <end> at the end".
 */

/** Start of the note put before a carried section, which marks it as carried in later runs too. */
const CARRIED_NOTE = 'This run did not make this measurement';

export interface PreviousResults {
  /** The earlier run, as "the run of <time>, made by `<command>` ...", for the carried-section notes. */
  origin: string;
  /** Section bodies by heading, without the "### " prefix. */
  sections: Map<string, string>;
  /** Rows of the targets table, as lists of cells. */
  targetRows: string[][];
}

/** Splits a Markdown table row into its cells, keeping escaped pipes inside a cell. */
function tableCells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replaceAll('\\|', '|'));
}

function describeOrigin(block: string): string {
  const time = /^Run (\S+?),/m.exec(block)?.[1];
  if (time === undefined) return 'an earlier run';
  const command = /```sh\n([^\n]+)\n```/.exec(block)?.[1];
  const load = /One-minute load average ([\d.]+) at the start and ([\d.]+) at the end/.exec(block);
  return (
    `the run of ${time}` +
    (command === undefined ? '' : `, made by \`${command}\``) +
    (load === null ? '' : ` under a one-minute load average of ${load[1]} to ${load[2]}`)
  );
}

/** Parses the generated block of an earlier run; returns undefined when `block` has no sections. */
export function parsePreviousResults(block: string): PreviousResults | undefined {
  const parts = block.split(/^### /m);
  if (parts.length < 2) return undefined;
  const sections = new Map<string, string>();
  for (const part of parts.slice(1)) {
    const newline = part.indexOf('\n');
    const heading = (newline < 0 ? part : part.slice(0, newline)).trim();
    // The last section runs up to the block's end marker, which is not part of its body.
    const body = (newline < 0 ? '' : part.slice(newline + 1)).replace(/<!--[\s\S]*?-->/g, '').trim();
    sections.set(heading, body);
  }
  const targetRows = (sections.get('Targets') ?? '')
    .split('\n')
    .filter((line) => line.startsWith('|'))
    // The first two lines of the table are its header and separator.
    .slice(2)
    .map(tableCells);
  return { origin: describeOrigin(parts[0] ?? ''), sections, targetRows };
}

/**
 * Returns the earlier body of the section `heading` with a note that names the run it comes from, or
 * undefined when the earlier block has no such section. A body that already starts with the note
 * was carried before and is returned unchanged, so it keeps the run that measured it.
 */
export function carriedSection(previous: PreviousResults | undefined, heading: string): string | undefined {
  const body = previous?.sections.get(heading);
  if (body === undefined || previous === undefined) return undefined;
  if (body.startsWith(CARRIED_NOTE)) return body;
  return `${CARRIED_NOTE}, so the results below are carried over from ${previous.origin}.\n\n${body}`;
}

/** Returns the earlier target rows whose first cell starts with one of `prefixes`. */
export function carriedTargetRows(
  previous: PreviousResults | undefined,
  prefixes: readonly string[],
): string[][] {
  if (previous === undefined) return [];
  return previous.targetRows.filter((row) => prefixes.some((prefix) => (row[0] ?? '').startsWith(prefix)));
}
