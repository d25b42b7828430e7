/**
 * Reader and writer of the safetensors format (https://github.com/huggingface/safetensors): a
 * little-endian uint64 with the byte length N of a JSON header, N bytes of UTF-8 JSON, then the
 * tensor data. The header maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }`,
 * offsets relative to the start of the data, plus an optional `__metadata__` map of strings.
 * Tensors are row-major and little-endian.
 */

/** Element types the reader converts to float32. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
/** Element types the writer stores. */
export type WritableDtype = 'F32' | 'F16' | 'BF16';

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** One tensor of a safetensors file, its values converted to float32. */
export interface NamedTensor {
  /** Element type stored in the file. */
  dtype: SafetensorsDtype;
  shape: number[];
  values: Float32Array;
}

export interface SafetensorsContent {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Parses a safetensors buffer into float32 tensors. F16, BF16, F64 and the integer types are
 * converted, which is exact for integers up to 2^24. `include` selects tensors by name so that
 * unneeded ones are neither converted nor kept. Throws on a malformed header, an unsupported dtype
 * of an included tensor, or data offsets that do not match the shape.
 */
export function readSafetensors(
  buffer: Uint8Array,
  include: (name: string) => boolean = () => true,
): SafetensorsContent {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buffer.byteLength < 8) {
    throw new Error(
      `Invalid safetensors data: ${buffer.byteLength} bytes is shorter than the 8-byte header length`,
    );
  }
  const headerLength = Number(view.getBigUint64(0, true));
  const dataStart = 8 + headerLength;
  if (dataStart > buffer.byteLength) {
    throw new Error(
      `Invalid safetensors data: header length ${headerLength} exceeds the ${buffer.byteLength}-byte buffer`,
    );
  }
  const header = parseHeader(buffer.subarray(8, dataStart));
  const dataLength = buffer.byteLength - dataStart;

  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    if (!include(name)) continue;
    const entry = validateEntry(name, raw, dataLength);
    const dtype = entry.dtype as SafetensorsDtype;
    const [begin, end] = entry.data_offsets;
    const values = toFloat32(dtype, view, dataStart + begin, (end - begin) / BYTES_PER_ELEMENT[dtype]);
    tensors.set(name, { dtype, shape: entry.shape, values });
  }
  return { tensors, metadata };
}

function parseHeader(bytes: Uint8Array): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8').decode(bytes));
  } catch (error) {
    throw new Error(`Invalid safetensors header: not JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error('Invalid safetensors header: expected a JSON object');
  }
  return header as Record<string, unknown>;
}

function validateEntry(name: string, raw: unknown, dataLength: number): HeaderEntry {
  const entry = raw as Partial<HeaderEntry> | null;
  if (
    typeof entry !== 'object' ||
    entry === null ||
    typeof entry.dtype !== 'string' ||
    !Array.isArray(entry.shape) ||
    !entry.shape.every((size) => Number.isInteger(size) && size >= 0) ||
    !Array.isArray(entry.data_offsets) ||
    entry.data_offsets.length !== 2
  ) {
    throw new Error(`Invalid safetensors header entry for tensor "${name}": ${JSON.stringify(raw)}`);
  }
  if (!(entry.dtype in BYTES_PER_ELEMENT)) {
    throw new Error(
      `Tensor "${name}" has unsupported safetensors dtype ${entry.dtype}. ` +
        `Supported: ${Object.keys(BYTES_PER_ELEMENT).join(', ')}`,
    );
  }
  const [begin, end] = entry.data_offsets;
  const elements = entry.shape.reduce((product, size) => product * size, 1);
  const expectedBytes = elements * BYTES_PER_ELEMENT[entry.dtype as SafetensorsDtype];
  if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end > dataLength) {
    throw new Error(
      `Tensor "${name}" has data offsets [${begin}, ${end}] outside the ${dataLength}-byte data section`,
    );
  }
  if (end - begin !== expectedBytes) {
    throw new Error(
      `Tensor "${name}" spans ${end - begin} bytes, but ${entry.dtype} shape [${entry.shape.join(', ')}] ` +
        `needs ${expectedBytes}`,
    );
  }
  return entry as HeaderEntry;
}

function toFloat32(dtype: SafetensorsDtype, view: DataView, offset: number, count: number): Float32Array {
  const values = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      // The bytes are copied because the source may not be 4-byte aligned for a Float32Array view.
      new Uint8Array(values.buffer).set(new Uint8Array(view.buffer, view.byteOffset + offset, count * 4));
      break;
    case 'F64':
      for (let i = 0; i < count; i++) values[i] = view.getFloat64(offset + i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) values[i] = halfToFloat(view.getUint16(offset + i * 2, true));
      break;
    case 'BF16':
      for (let i = 0; i < count; i++) values[i] = bfloat16ToFloat(view.getUint16(offset + i * 2, true));
      break;
    case 'I64':
      for (let i = 0; i < count; i++) values[i] = Number(view.getBigInt64(offset + i * 8, true));
      break;
    case 'I32':
      for (let i = 0; i < count; i++) values[i] = view.getInt32(offset + i * 4, true);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) values[i] = view.getInt16(offset + i * 2, true);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) values[i] = view.getInt8(offset + i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) values[i] = view.getUint8(offset + i);
      break;
  }
  return values;
}

const floatView = new Float32Array(1);
const bitsView = new Uint32Array(floatView.buffer);

/** Converts IEEE 754 binary16 bits to a number, subnormals, infinities and NaN included. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Converts a number to IEEE 754 binary16 bits, rounding to nearest even. */
export function floatToHalf(value: number): number {
  floatView[0] = value;
  const bits = bitsView[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);

  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half (or zero): shift the mantissa, with its implicit leading 1, into place.
    if (halfExponent < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    return sign | roundShift(full, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent, up to infinity.
  return sign | ((halfExponent << 10) + roundShift(mantissa, 13));
}

/** `value >> shift` rounded to nearest, ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const remainder = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return remainder > half || (remainder === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/** Converts bfloat16 bits (the upper half of a float32) to a number. */
export function bfloat16ToFloat(bits: number): number {
  bitsView[0] = bits << 16;
  return floatView[0] as number;
}

/** Converts a number to bfloat16 bits, rounding to nearest even. NaN stays NaN. */
export function floatToBfloat16(value: number): number {
  floatView[0] = value;
  const bits = bitsView[0] as number;
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff;
  return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
}

/** A tensor to write: values in row-major order, stored as `dtype` (F32 when unset). */
export interface TensorToWrite {
  shape: readonly number[];
  values: Float32Array | ArrayLike<number>;
  dtype?: WritableDtype;
}

/**
 * Serializes tensors in the safetensors format, in the order given. The header is padded with
 * spaces to a multiple of 8 bytes, as the reference implementation does, so every tensor starts aligned.
 */
export function writeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const dtype = tensor.dtype ?? 'F32';
    const elements = tensor.shape.reduce((product, size) => product * size, 1);
    if (elements !== tensor.values.length) {
      throw new Error(
        `Tensor "${name}" has ${tensor.values.length} values, but shape [${tensor.shape.join(', ')}] needs ${elements}`,
      );
    }
    const data = encodeValues(dtype, tensor.values);
    header[name] = { dtype, shape: [...tensor.shape], data_offsets: [offset, offset + data.length] };
    parts.push(data);
    offset += data.length;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padding = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(padding, ' ')]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length), 0);
  return Buffer.concat([length, json, ...parts]);
}

function encodeValues(dtype: WritableDtype, values: ArrayLike<number>): Buffer {
  const count = values.length;
  if (dtype === 'F32') {
    const data = Buffer.alloc(count * 4);
    for (let i = 0; i < count; i++) data.writeFloatLE(values[i] as number, i * 4);
    return data;
  }
  const data = Buffer.alloc(count * 2);
  const convert = dtype === 'F16' ? floatToHalf : floatToBfloat16;
  for (let i = 0; i < count; i++) data.writeUInt16LE(convert(values[i] as number), i * 2);
  return data;
}
