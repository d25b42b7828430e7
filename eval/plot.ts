/**
 * Dependency-free SVG charts for the evaluation report: line charts for loss curves and grouped bar charts
 * for metrics side by side. Each function returns a standalone SVG 1.1 document as a string, with all text
 * XML-escaped and no element ids, so several charts can be inlined in one HTML page.
 */

export type Point = readonly [x: number, y: number];

export interface LineSeries {
  readonly name: string;
  /**
   * Points, drawn in ascending x. A non-finite y leaves a gap in the line and a non-finite x drops the point.
   * Every point is written to the SVG, so downsample very long curves first.
   */
  readonly points: readonly Point[];
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** Size in CSS pixels; defaults 720 × 420. */
  readonly width?: number;
  readonly height?: number;
}

export interface BarSeries {
  readonly name: string;
  /** One value per group, in group order; null, undefined or a non-finite number draws no bar and "n/a". */
  readonly values: readonly (number | null | undefined)[];
}

export interface BarChartOptions {
  readonly title: string;
  /** Category labels along the x axis. */
  readonly groups: readonly string[];
  readonly series: readonly BarSeries[];
  readonly yLabel?: string;
  readonly width?: number;
  readonly height?: number;
  /** Whether to print each value above its bar when it fits; default true. */
  readonly valueLabels?: boolean;
}

/** Okabe-Ito colour-blind-safe palette, reordered so the first colours contrast most on white. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
/** Dash patterns that tell lines apart once the palette repeats. */
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];
const FONT_FAMILY = 'Helvetica, Arial, sans-serif';
const FONT_SIZE = 12;
const TITLE_SIZE = 16;
/** Estimated average glyph width of a sans-serif font as a fraction of its size, used for layout only. */
const CHAR_WIDTH = 0.6;
const LEGEND_SWATCH = 18;
const MAX_LEGEND_CHARS = 32;
const AXIS_COLOR = '#333333';
const GRID_COLOR = '#e3e3e3';
const LINE_HEIGHT = 14;
/** Bottom margin that fits one line of group labels under a bar chart. */
const GROUP_LABEL_MARGIN = 34;

interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Axis bounds with the tick values between them and the tick spacing. */
export interface AxisScale {
  readonly min: number;
  readonly max: number;
  readonly ticks: readonly number[];
  readonly step: number;
}

/** Renders a line chart with one polyline per series, axes with nice ticks, a grid and a legend. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  checkSize(width, height);
  const prepared = options.series.map((series) => {
    const finite = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const sorted = [...series.points]
      .map((point, order) => ({ point, order }))
      .filter(({ point }) => Number.isFinite(point[0]))
      .sort((a, b) => a.point[0] - b.point[0] || a.order - b.order)
      .map(({ point }) => point);
    return { name: series.name, finite, sorted, skipped: series.points.length - finite.length };
  });

  const allFinite = prepared.flatMap((series) => series.finite);
  const xScale = niceScale(
    allFinite.map(([x]) => x),
    6,
  );
  const yScale = niceScale(
    allFinite.map(([, y]) => y),
    5,
  );
  const skipped = prepared.reduce((sum, series) => sum + series.skipped, 0);

  const legendEntries = prepared.map((series, index) => ({
    label: series.finite.length === 0 ? `${series.name} (no data)` : series.name,
    swatch: lineSwatch(index),
  }));
  const legendNote =
    skipped > 0 ? `${skipped} non-finite point${skipped === 1 ? '' : 's'} not drawn` : undefined;
  const box = plotBox(width, height, yScale, legendEntries, legendNote, 52);

  const parts: string[] = [];
  parts.push(...frame(options.title, options.xLabel, options.yLabel, width, height, box));
  parts.push(...gridAndAxes(box, xScale, yScale));

  const mapX = (x: number): number => box.left + ((x - xScale.min) / (xScale.max - xScale.min)) * box.width;
  const mapY = (y: number): number =>
    box.top + box.height - ((y - yScale.min) / (yScale.max - yScale.min)) * box.height;
  prepared.forEach((series, index) => {
    const color = colorAt(index);
    const dash = DASHES[Math.floor(index / PALETTE.length) % DASHES.length] ?? '';
    const dashAttribute = dash === '' ? '' : ` stroke-dasharray="${dash}"`;
    const showMarkers = series.finite.length <= 40;
    for (const segment of splitAtGaps(series.sorted)) {
      const coordinates = segment.map(
        ([x, y]) => `${formatCoordinate(mapX(x))},${formatCoordinate(mapY(y))}`,
      );
      if (segment.length > 1) {
        parts.push(
          `<polyline points="${coordinates.join(' ')}" fill="none" stroke="${color}" stroke-width="2" ` +
            `stroke-linejoin="round" stroke-linecap="round"${dashAttribute}/>`,
        );
      }
      if (showMarkers || segment.length === 1) {
        for (const [x, y] of segment) {
          parts.push(
            `<circle cx="${formatCoordinate(mapX(x))}" cy="${formatCoordinate(mapY(y))}" r="3" fill="${color}"/>`,
          );
        }
      }
    }
  });

  if (allFinite.length === 0) parts.push(noDataText(box));
  parts.push(...legend(legendEntries, legendNote, box, width));
  return document(options.title, width, height, parts);
}

/** Renders grouped vertical bars: one band per group, one bar per series inside each band, and a legend. */
export function barChart(options: BarChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  checkSize(width, height);
  const groups = options.groups;
  for (const series of options.series) {
    if (series.values.length > groups.length) {
      throw new RangeError(
        `Bar series ${JSON.stringify(series.name)} has ${series.values.length} values for ${groups.length} groups`,
      );
    }
  }
  const finiteValues = options.series.flatMap((series) =>
    series.values.filter((value): value is number => typeof value === 'number' && Number.isFinite(value)),
  );
  // Bars grow from zero, so zero must be inside the value range.
  const yScale = niceScale([0, ...finiteValues], 5);

  const legendEntries = options.series.map((series, index) => ({
    label: series.name,
    swatch: barSwatch(index),
  }));
  // The plot width does not depend on the bottom margin, so a first layout gives the band width used to
  // wrap the group labels, and the second reserves as many label lines as the longest wrap needs.
  const firstLayout = plotBox(width, height, yScale, legendEntries, undefined, GROUP_LABEL_MARGIN);
  const wrapWidth = groups.length > 0 ? (firstLayout.width / groups.length) * 0.95 : firstLayout.width;
  const groupLines = groups.map((group) => wrapText(group, wrapWidth, FONT_SIZE));
  const lineCount = Math.max(1, ...groupLines.map((lines) => lines.length));
  const bottom = Math.min(height * 0.35, GROUP_LABEL_MARGIN + (lineCount - 1) * LINE_HEIGHT);
  const box = plotBox(width, height, yScale, legendEntries, undefined, bottom);

  const parts: string[] = [];
  parts.push(...frame(options.title, '', options.yLabel ?? '', width, height, box));
  parts.push(...gridAndAxes(box, undefined, yScale));

  const mapY = (y: number): number =>
    box.top + box.height - ((y - yScale.min) / (yScale.max - yScale.min)) * box.height;
  const zeroY = mapY(0);
  const bandWidth = groups.length > 0 ? box.width / groups.length : box.width;
  const seriesCount = Math.max(1, options.series.length);
  const barWidth = (bandWidth * 0.8) / seriesCount;
  const showValues = options.valueLabels ?? true;

  groups.forEach((group, groupIndex) => {
    const bandLeft = box.left + groupIndex * bandWidth;
    const labelX = bandLeft + bandWidth / 2;
    const labelY = box.top + box.height + 18;
    const lines = (groupLines[groupIndex] ?? [group]).map(
      (line, lineIndex) =>
        `<tspan x="${formatCoordinate(labelX)}" dy="${lineIndex === 0 ? 0 : LINE_HEIGHT}">${escapeXml(line)}</tspan>`,
    );
    parts.push(
      `<text x="${formatCoordinate(labelX)}" y="${formatCoordinate(labelY)}" text-anchor="middle">${lines.join('')}</text>`,
    );

    options.series.forEach((series, seriesIndex) => {
      const value = series.values[groupIndex];
      const x = bandLeft + bandWidth * 0.1 + seriesIndex * barWidth;
      const centerX = formatCoordinate(x + barWidth / 2);
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        parts.push(
          `<text x="${centerX}" y="${formatCoordinate(zeroY - 4)}" text-anchor="middle" font-size="10" fill="#777777">n/a</text>`,
        );
        return;
      }
      const valueY = mapY(value);
      const top = Math.min(valueY, zeroY);
      const barHeight = Math.abs(zeroY - valueY);
      parts.push(
        `<rect class="bar" x="${formatCoordinate(x + 1)}" y="${formatCoordinate(top)}" width="${formatCoordinate(Math.max(0, barWidth - 2))}" ` +
          `height="${formatCoordinate(barHeight)}" fill="${colorAt(seriesIndex)}">` +
          `<title>${escapeXml(`${series.name}, ${group}: ${formatValue(value)}`)}</title></rect>`,
      );
      const label = formatValue(value);
      if (showValues && textWidth(label, 10) <= barWidth + 6) {
        const labelTop = value >= 0 ? valueY - 4 : valueY + 12;
        parts.push(
          `<text x="${centerX}" y="${formatCoordinate(labelTop)}" text-anchor="middle" font-size="10">${escapeXml(label)}</text>`,
        );
      }
    });
  });

  if (groups.length === 0 || options.series.length === 0) parts.push(noDataText(box));
  parts.push(
    `<line x1="${formatCoordinate(box.left)}" y1="${formatCoordinate(zeroY)}" x2="${formatCoordinate(box.left + box.width)}" y2="${formatCoordinate(zeroY)}" stroke="${AXIS_COLOR}"/>`,
  );
  parts.push(...legend(legendEntries, undefined, box, width));
  return document(options.title, width, height, parts);
}

/**
 * Escapes text for XML character data and attribute values, and drops characters that XML 1.0 forbids
 * (C0 controls other than tab, newline and carriage return, U+FFFE, U+FFFF and unpaired surrogates).
 */
export function escapeXml(text: string): string {
  let allowed = '';
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    const isXmlChar =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      code >= 0x10000;
    if (isXmlChar) allowed += character;
  }
  return allowed
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * Chooses axis bounds and ticks at multiples of 1, 2, 2.5 or 5 times a power of ten, with about
 * `targetTicks` intervals. An empty range becomes [0, 1]; a single value v becomes v ± max(|v|/10, 1e-9)
 * (v ± 1 for v = 0), so one point or a flat line still gets a readable axis.
 */
export function niceScale(values: readonly number[], targetTicks: number): AxisScale {
  const finite = values.filter((value) => Number.isFinite(value));
  let min = finite.length === 0 ? 0 : Math.min(...finite);
  let max = finite.length === 0 ? 1 : Math.max(...finite);
  if (min === max) {
    const pad = min === 0 ? 1 : Math.max(Math.abs(min) / 10, 1e-9);
    min -= pad;
    max += pad;
  }
  const step = niceStep((max - min) / Math.max(1, targetTicks));
  const niceMin = Math.floor(min / step) * step;
  const niceMax = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  const count = Math.round((niceMax - niceMin) / step);
  for (let index = 0; index <= count; index++) ticks.push(roundToStep(niceMin + index * step, step));
  return { min: niceMin, max: niceMax, ticks, step };
}

function niceStep(rawStep: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(rawStep));
  const residual = rawStep / magnitude;
  for (const multiplier of [1, 2, 2.5, 5]) {
    if (residual <= multiplier) return multiplier * magnitude;
  }
  return 10 * magnitude;
}

/** Removes floating-point noise such as 0.30000000000000004 from a tick value. */
function roundToStep(value: number, step: number): number {
  const decimals = Math.max(0, decimalsFor(step) + 2);
  const rounded = Number(value.toFixed(Math.min(20, decimals)));
  return Object.is(rounded, -0) ? 0 : rounded;
}

function decimalsFor(step: number): number {
  let decimals = Math.max(0, -Math.floor(Math.log10(step)));
  while (decimals < 20 && Math.abs(Number((step * 10 ** decimals).toFixed(6)) % 1) > 1e-6) decimals += 1;
  return decimals;
}

/**
 * Formats a tick label so that all ticks of one axis use the same notation: thousands separators for
 * integers, enough decimals to tell steps apart, and exponent notation for very large or small steps.
 */
export function formatTick(value: number, step: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1e7 || step < 1e-4) {
    const [mantissa = '', exponent = ''] = value.toExponential(3).split('e');
    return `${mantissa.replace(/\.?0+$/, '')}e${exponent.replace('+', '')}`;
  }
  const decimals = decimalsFor(step);
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Formats a bar value with up to four significant digits. */
function formatValue(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1e6 || Math.abs(value) < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

function formatCoordinate(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * CHAR_WIDTH;
}

function colorAt(index: number): string {
  return PALETTE[index % PALETTE.length] ?? '#000000';
}

interface LegendEntry {
  readonly label: string;
  /** SVG markup of a swatch drawn with its top-left corner at (0, 0), LEGEND_SWATCH wide and 12 high. */
  readonly swatch: string;
}

function lineSwatch(index: number): string {
  const dash = DASHES[Math.floor(index / PALETTE.length) % DASHES.length] ?? '';
  const dashAttribute = dash === '' ? '' : ` stroke-dasharray="${dash}"`;
  return `<line x1="0" y1="6" x2="${LEGEND_SWATCH}" y2="6" stroke="${colorAt(index)}" stroke-width="2"${dashAttribute}/>`;
}

function barSwatch(index: number): string {
  return `<rect x="3" y="0" width="12" height="12" fill="${colorAt(index)}"/>`;
}

function truncate(text: string, maxChars: number): string {
  const characters = [...text];
  return characters.length <= maxChars ? text : `${characters.slice(0, maxChars - 1).join('')}…`;
}

function checkSize(width: number, height: number): void {
  if (!(Number.isFinite(width) && width > 0 && Number.isFinite(height) && height > 0)) {
    throw new RangeError(`Chart width and height must be positive numbers, got ${width} × ${height}`);
  }
}

/** Breaks `text` at spaces into lines of at most `maxWidth`; a single longer word keeps its own line. */
function wrapText(text: string, maxWidth: number, fontSize: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter((part) => part !== '')) {
    const candidate = current === '' ? word : `${current} ${word}`;
    if (current !== '' && textWidth(candidate, fontSize) > maxWidth) {
      lines.push(current);
      current = word;
    } else {
      current = candidate;
    }
  }
  if (current !== '' || lines.length === 0) lines.push(current);
  return lines;
}

/** Lays out the plot area, leaving room for the title, tick labels, axis labels and the legend on the right. */
function plotBox(
  width: number,
  height: number,
  yScale: AxisScale,
  legendEntries: readonly LegendEntry[],
  legendNote: string | undefined,
  bottom: number,
): Box {
  const yTickWidth = Math.max(
    ...yScale.ticks.map((tick) => textWidth(formatTick(tick, yScale.step), FONT_SIZE)),
  );
  const left = 16 + FONT_SIZE + 10 + yTickWidth + 8;
  const legendLabelWidth = Math.max(
    0,
    ...legendEntries.map((entry) => textWidth(truncate(entry.label, MAX_LEGEND_CHARS), FONT_SIZE)),
    legendNote === undefined ? 0 : textWidth(legendNote, 10),
  );
  const legendWidth = legendEntries.length === 0 ? 0 : LEGEND_SWATCH + 6 + legendLabelWidth + 16;
  const right = Math.min(width * 0.3, Math.max(20, legendWidth + 12));
  const top = 16 + TITLE_SIZE + 14;
  return {
    left,
    top,
    width: Math.max(10, width - left - right),
    height: Math.max(10, height - top - bottom),
  };
}

/** Draws the background, title and axis labels. */
function frame(
  title: string,
  xLabel: string,
  yLabel: string,
  width: number,
  height: number,
  box: Box,
): string[] {
  const parts = [
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${formatCoordinate(width / 2)}" y="${16 + TITLE_SIZE - 2}" text-anchor="middle" font-size="${TITLE_SIZE}" ` +
      `font-weight="bold">${escapeXml(title)}</text>`,
  ];
  if (xLabel !== '') {
    parts.push(
      `<text x="${formatCoordinate(box.left + box.width / 2)}" y="${formatCoordinate(box.top + box.height + 40)}" ` +
        `text-anchor="middle">${escapeXml(xLabel)}</text>`,
    );
  }
  if (yLabel !== '') {
    const x = 16 + FONT_SIZE - 2;
    const y = box.top + box.height / 2;
    parts.push(
      `<text x="${x}" y="${formatCoordinate(y)}" text-anchor="middle" transform="rotate(-90 ${x} ${formatCoordinate(y)})">` +
        `${escapeXml(yLabel)}</text>`,
    );
  }
  return parts;
}

/** Draws horizontal grid lines with y tick labels, and x ticks with labels when an x scale is given. */
function gridAndAxes(box: Box, xScale: AxisScale | undefined, yScale: AxisScale): string[] {
  const parts: string[] = [];
  const bottom = box.top + box.height;
  for (const tick of yScale.ticks) {
    const y = formatCoordinate(bottom - ((tick - yScale.min) / (yScale.max - yScale.min)) * box.height);
    parts.push(
      `<line x1="${formatCoordinate(box.left)}" y1="${y}" x2="${formatCoordinate(box.left + box.width)}" y2="${y}" stroke="${GRID_COLOR}"/>`,
      `<text x="${formatCoordinate(box.left - 6)}" y="${y}" dy="0.35em" text-anchor="end">${escapeXml(formatTick(tick, yScale.step))}</text>`,
    );
  }
  if (xScale !== undefined) {
    for (const tick of xScale.ticks) {
      const x = formatCoordinate(box.left + ((tick - xScale.min) / (xScale.max - xScale.min)) * box.width);
      parts.push(
        `<line x1="${x}" y1="${formatCoordinate(bottom)}" x2="${x}" y2="${formatCoordinate(bottom + 5)}" stroke="${AXIS_COLOR}"/>`,
        `<text x="${x}" y="${formatCoordinate(bottom + 18)}" text-anchor="middle">${escapeXml(formatTick(tick, xScale.step))}</text>`,
      );
    }
  }
  parts.push(
    `<line x1="${formatCoordinate(box.left)}" y1="${formatCoordinate(box.top)}" x2="${formatCoordinate(box.left)}" ` +
      `y2="${formatCoordinate(bottom)}" stroke="${AXIS_COLOR}"/>`,
    `<line x1="${formatCoordinate(box.left)}" y1="${formatCoordinate(bottom)}" x2="${formatCoordinate(box.left + box.width)}" ` +
      `y2="${formatCoordinate(bottom)}" stroke="${AXIS_COLOR}"/>`,
  );
  return parts;
}

function legend(
  entries: readonly LegendEntry[],
  note: string | undefined,
  box: Box,
  width: number,
): string[] {
  const parts: string[] = [];
  const left = box.left + box.width + 16;
  const maxChars = Math.max(
    4,
    Math.min(MAX_LEGEND_CHARS, Math.floor((width - left - LEGEND_SWATCH - 10) / (FONT_SIZE * CHAR_WIDTH))),
  );
  entries.forEach((entry, index) => {
    const top = box.top + index * 20;
    const visibleLabel = truncate(entry.label, maxChars);
    const fullTitle = visibleLabel === entry.label ? '' : `<title>${escapeXml(entry.label)}</title>`;
    parts.push(
      `<g transform="translate(${formatCoordinate(left)} ${formatCoordinate(top)})">${fullTitle}${entry.swatch}` +
        `<text x="${LEGEND_SWATCH + 6}" y="6" dy="0.35em">${escapeXml(visibleLabel)}</text></g>`,
    );
  });
  if (note !== undefined) {
    const top = box.top + entries.length * 20 + 6;
    parts.push(
      `<text x="${formatCoordinate(left)}" y="${formatCoordinate(top)}" dy="0.35em" font-size="10" fill="#777777">${escapeXml(note)}</text>`,
    );
  }
  return parts;
}

function noDataText(box: Box): string {
  return (
    `<text x="${formatCoordinate(box.left + box.width / 2)}" y="${formatCoordinate(box.top + box.height / 2)}" ` +
    `text-anchor="middle" fill="#777777">No data</text>`
  );
}

/** Splits ascending points into runs of finite y values; a non-finite y ends the current run. */
function splitAtGaps(points: readonly Point[]): Point[][] {
  const segments: Point[][] = [];
  let current: Point[] = [];
  for (const point of points) {
    if (Number.isFinite(point[1])) {
      current.push(point);
    } else if (current.length > 0) {
      segments.push(current);
      current = [];
    }
  }
  if (current.length > 0) segments.push(current);
  return segments;
}

function document(title: string, width: number, height: number, parts: readonly string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img">\n` +
    `<title>${escapeXml(title)}</title>\n` +
    `<g font-family="${FONT_FAMILY}" font-size="${FONT_SIZE}" fill="#222222">\n` +
    parts.join('\n') +
    '\n</g>\n</svg>\n'
  );
}
