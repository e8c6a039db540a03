import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from '../../src/formats/errors.ts';
import { RAW_DTYPE_BYTES, RAW_DTYPES, rawEqual, rawFromNumbers, type RawTensor } from '../../src/formats/raw-tensor.ts';
import {
  openSafetensors, readSafetensorsHeader, SafetensorsFile, writeSafetensors, writeSafetensorsCheckpoint,
} from '../../src/formats/safetensors.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'lion-st-'));

function bytesTensor(dtype: RawTensor['dtype'], shape: number[], seed: number): RawTensor {
  let n = 1;
  for (const d of shape) n *= d;
  const data = new Uint8Array(n * RAW_DTYPE_BYTES[dtype]);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 7) & 0xff;
  if (dtype === 'BOOL') for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) & 1;
  return { dtype, shape, data };
}

/** A safetensors file assembled by hand from a header string and data bytes. */
function handMade(header: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function expectFormatError(fn: () => unknown, file: string, key: string | undefined, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FormatError, `expected FormatError, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.equal(e.key, key);
    assert.match(e.message, pattern);
    assert.ok(e.message.includes(file), 'message names the file');
    if (key !== undefined) assert.ok(e.message.includes(key), 'message names the tensor');
    return true;
  });
}

test('writer output equals a file laid out by hand (HF layout: metadata first, 8-byte padded header)', () => {
  const dir = tmp();
  const f = join(dir, 'a.safetensors');
  const t = rawFromNumbers([1, 2], [2], 'F32');
  writeSafetensors(f, { w: t }, { metadata: { format: 'pt' } });
  const header = '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
  const expected = handMade(padded, new Uint8Array([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]));
  assert.deepEqual(new Uint8Array(readFileSync(f)), expected);
  rmSync(dir, { recursive: true });
});

test('round trip of every dtype, scalars and empty tensors, one tensor at a time', () => {
  const dir = tmp();
  const f = join(dir, 'all.safetensors');
  const tensors = new Map<string, RawTensor>();
  RAW_DTYPES.forEach((d, i) => tensors.set(`t.${d.toLowerCase()}`, bytesTensor(d, [3, i + 1], i)));
  tensors.set('scalar', rawFromNumbers([2.5], [], 'F64'));
  tensors.set('empty', bytesTensor('F32', [0, 4], 0));
  tensors.set('odd_bf16', bytesTensor('BF16', [3], 9));
  writeSafetensors(f, tensors, { metadata: { format: 'pt', note: 'ünïcode' } });
  const file = SafetensorsFile.open(f);
  assert.deepEqual(file.metadata, { format: 'pt', note: 'ünïcode' });
  assert.deepEqual(new Set(file.names()), new Set(tensors.keys()));
  // Widest dtype first keeps every tensor aligned to its element size (the header is padded to 8).
  assert.equal(file.header.dataStart % 8, 0);
  for (const e of file.header.entries) assert.equal(e.dataOffsets[0] % RAW_DTYPE_BYTES[e.dtype], 0, e.name);
  for (const [name, t] of file.entries()) {
    assert.ok(rawEqual(t, tensors.get(name) as RawTensor), name);
    assert.equal(t.data.byteOffset, 0);
  }
  assert.deepEqual(file.info('t.bf16'), { dtype: 'BF16', shape: [3, 3], byteLength: 18 });
  expectFormatError(() => file.read('nope'), f, 'nope', /no such tensor/);
  rmSync(dir, { recursive: true });
});

test('entries() is lazy: it reads the next tensor only when asked', () => {
  const dir = tmp();
  const f = join(dir, 'lazy.safetensors');
  writeSafetensors(f, { a: bytesTensor('F32', [4], 1), b: bytesTensor('F32', [4], 2) });
  const file = SafetensorsFile.open(f);
  const it = file.entries();
  const first = it.next();
  assert.equal(first.done, false);
  // Cutting the file now breaks only tensor b, which must not have been read yet.
  truncateSync(f, readFileSync(f).length - 8);
  assert.throws(() => it.next(), (e: unknown) => e instanceof FormatError && /truncated/.test(e.message) && e.message.includes("'b'"));
  rmSync(dir, { recursive: true });
});

test('bad files: truncated, lying header, overlaps, unknown dtype, broken header', () => {
  const dir = tmp();
  const good = join(dir, 'good.safetensors');
  writeSafetensors(good, { first: bytesTensor('F32', [2, 2], 1), second: bytesTensor('F32', [3], 2) });

  const cut = join(dir, 'cut.safetensors');
  const bytes = readFileSync(good);
  writeFileSync(cut, bytes.subarray(0, bytes.length - 4));
  expectFormatError(() => SafetensorsFile.open(cut), cut, 'second', /truncated/);

  const lie = join(dir, 'lie.safetensors');
  writeFileSync(lie, handMade('{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}', new Uint8Array(24)));
  expectFormatError(() => SafetensorsFile.open(lie), lie, 'w', /lies about sizes.*24 bytes.*20/);

  const overlap = join(dir, 'overlap.safetensors');
  writeFileSync(overlap, handMade('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', new Uint8Array(16)));
  expectFormatError(() => SafetensorsFile.open(overlap), overlap, 'b', /overlaps 'a'/);

  const dtype = join(dir, 'dtype.safetensors');
  writeFileSync(dtype, handMade('{"q":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}', new Uint8Array(2)));
  expectFormatError(() => SafetensorsFile.open(dtype), dtype, 'q', /unsupported dtype 'F8_E4M3'/);

  const notJson = join(dir, 'json.safetensors');
  writeFileSync(notJson, handMade('{"a": [', new Uint8Array(0)));
  expectFormatError(() => SafetensorsFile.open(notJson), notJson, undefined, /not valid JSON/);

  const huge = join(dir, 'huge.safetensors');
  const h = new Uint8Array(16);
  new DataView(h.buffer).setBigUint64(0, 1n << 40n, true);
  writeFileSync(huge, h);
  expectFormatError(() => SafetensorsFile.open(huge), huge, undefined, /header length/);

  const shortHeader = join(dir, 'short.safetensors');
  const s = new Uint8Array(12);
  new DataView(s.buffer).setBigUint64(0, 100n, true);
  writeFileSync(shortHeader, s);
  expectFormatError(() => SafetensorsFile.open(shortHeader), shortHeader, undefined, /truncated.*header length 100/);

  const tiny = join(dir, 'tiny.safetensors');
  writeFileSync(tiny, new Uint8Array(3));
  expectFormatError(() => SafetensorsFile.open(tiny), tiny, undefined, /too short/);

  const badShape = join(dir, 'shape.safetensors');
  writeFileSync(badShape, handMade('{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', new Uint8Array(4)));
  expectFormatError(() => SafetensorsFile.open(badShape), badShape, 'w', /shape/);

  // Writers refuse inconsistent tensors too, naming them.
  expectFormatError(() => writeSafetensors(join(dir, 'w.safetensors'), { x: { dtype: 'F32', shape: [3], data: new Uint8Array(8) } }), join(dir, 'w.safetensors'), 'x', /needs 12/);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), [], 'no temp files left behind');
  rmSync(dir, { recursive: true });
});

test('sharded checkpoints: written with an index, read back as one source, broken indexes named', () => {
  const dir = tmp();
  const tensors = new Map<string, RawTensor>();
  for (let i = 0; i < 5; i++) tensors.set(`model.layers.${i}.w`, bytesTensor('BF16', [8, 8], i));
  tensors.set('lm_head.weight', bytesTensor('F32', [4, 8], 7));
  const files = writeSafetensorsCheckpoint(dir, tensors, { maxShardBytes: 300 });
  const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as { metadata: { total_size: number }; weight_map: Record<string, string> };
  assert.ok(files.length > 2, 'several shards plus the index');
  assert.equal(index.metadata.total_size, 5 * 128 + 128);
  assert.match(index.weight_map['lm_head.weight'] as string, /^model-\d{5}-of-\d{5}\.safetensors$/);
  const src = openSafetensors(dir);
  assert.deepEqual(new Set(src.names()), new Set(tensors.keys()));
  for (const [name, t] of src.entries()) assert.ok(rawEqual(t, tensors.get(name) as RawTensor), name);

  // The index claims a tensor lives in a shard that does not hold it.
  const wrong = { ...index, weight_map: { ...index.weight_map, 'lm_head.weight': index.weight_map['model.layers.0.w'] } };
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(wrong));
  expectFormatError(() => openSafetensors(dir), join(dir, 'model.safetensors.index.json'), 'lm_head.weight', /does not hold it/);
  const missing = { ...index, weight_map: { ...index.weight_map, extra: 'model-00009-of-00009.safetensors' } };
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(missing));
  expectFormatError(() => openSafetensors(dir), join(dir, 'model.safetensors.index.json'), 'extra', /does not exist/);
  rmSync(dir, { recursive: true });

  // Small enough for one file: model.safetensors, no index.
  const one = tmp();
  assert.deepEqual(writeSafetensorsCheckpoint(one, tensors).map((p) => p.slice(one.length + 1)), ['model.safetensors']);
  assert.equal(readSafetensorsHeader(join(one, 'model.safetensors')).entries.length, 6);
  rmSync(one, { recursive: true });
});
