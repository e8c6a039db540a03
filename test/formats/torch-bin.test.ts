import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { FormatError } from '../../src/formats/errors.ts';
import { PickleWriter, unpickle } from '../../src/formats/pickle.ts';
import { RAW_DTYPE_BYTES, RAW_DTYPES, rawEqual, rawToNumbers, type RawTensor } from '../../src/formats/raw-tensor.ts';
import { TorchBinFile, writeTorchStateDict } from '../../src/formats/torch-bin.ts';
import { writeZipStored, ZipReader } from '../../src/formats/zip.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const range = (n: number, f: (i: number) => number = (i) => i): number[] => Array.from({ length: n }, (_, i) => f(i));

test('reads a state dict written by real torch.save (fixtures/make_torch_fixtures.py): views, shared storages, every dtype', () => {
  const f = TorchBinFile.open(join(fixtures, 'torch_state_dict.bin'));
  const get = (k: string): { t: RawTensor; v: number[] } => {
    const t = f.read(k);
    return { t, v: Array.from(rawToNumbers(t)) };
  };
  assert.deepEqual(f.names(), ['contig', 'transposed', 'slice', 'shared_a', 'shared_b', 'bf16', 'f16', 'i64', 'i32', 'i16', 'i8', 'u8', 'bool', 'param', 'scalar']);
  assert.deepEqual(get('contig').v, range(6));
  // base = arange(12).reshape(3, 4); base.t()[i][j] = base[j][i] = 4j + i.
  const tr = get('transposed');
  assert.deepEqual(tr.t.shape, [4, 3]);
  assert.deepEqual(tr.v, range(12, (n) => 4 * (n % 3) + Math.floor(n / 3)));
  // base[1:, 2:] = [[6, 7], [10, 11]]: storage offset 6, strides (4, 1).
  assert.deepEqual(get('slice').v, [6, 7, 10, 11]);
  assert.equal(get('shared_a').t.dtype, 'F64');
  assert.deepEqual(get('shared_a').v, range(8));
  assert.deepEqual(get('shared_b').v, [2, 3, 4, 5]);
  assert.deepEqual(get('bf16').t.dtype, 'BF16');
  // bf16(0.1) = 0x3DCD = 0.10009765625.
  assert.deepEqual(get('bf16').v, [1.5, -2.25, 0.10009765625]);
  // f16(0.1) = 0x2E66 = 0.0999755859375; 6e-8 rounds to the smallest subnormal 2^-24.
  assert.deepEqual(get('f16').v, [0.0999755859375, -65504, 2 ** -24]);
  assert.deepEqual(get('i64').v, [1, -(2 ** 40), 7]);
  assert.deepEqual(get('i32').v, [-5, 2 ** 30]);
  assert.deepEqual(get('i16').v, [-300, 300]);
  assert.deepEqual(get('i8').v, [-128, 127]);
  assert.deepEqual(get('u8').v, [0, 255]);
  assert.deepEqual([get('bool').t.dtype, ...get('bool').v], ['BOOL', 1, 0, 1]);
  assert.deepEqual([get('param').t.shape, get('param').v], [[2, 2], [1, 1, 1, 1]]);
  assert.deepEqual([get('scalar').t.shape, get('scalar').v], [[], [3.5]]);
});

test('writer: zip entries and pickle as torch lays them out; reader round trip for every dtype', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lion-bin-'));
  const f = join(dir, 'sd.bin');
  const tensors = new Map<string, RawTensor>();
  RAW_DTYPES.forEach((d, i) => {
    const shape = [2, i + 1];
    const data = Uint8Array.from(range(2 * (i + 1) * RAW_DTYPE_BYTES[d], (j) => (d === 'BOOL' ? j & 1 : (j * 37 + i) & 0xff)));
    tensors.set(`w.${d}`, { dtype: d, shape, data });
  });
  tensors.set('scalar', { dtype: 'F32', shape: [], data: new Uint8Array(new Float32Array([4]).buffer) });
  writeTorchStateDict(f, tensors);
  const zip = ZipReader.open(f);
  assert.deepEqual([...zip.entries.keys()].slice(0, 2), ['archive/data.pkl', 'archive/byteorder']);
  assert.ok(zip.entries.has('archive/version'), 'has archive/version');
  const bytes = readFileSync(f);
  for (const e of zip.entries.values()) {
    assert.equal(e.method, 0, 'STORED');
    assert.equal((crc32(zip.read(e.name)) >>> 0), e.crc32, `crc of ${e.name}`);
    // Data aligned to 64 bytes, as torch's writer does.
    const nameLen = bytes.readUInt16LE(e.localHeaderOffset + 26);
    const extraLen = bytes.readUInt16LE(e.localHeaderOffset + 28);
    assert.equal((e.localHeaderOffset + 30 + nameLen + extraLen) % 64, 0, e.name);
  }
  const back = TorchBinFile.open(f);
  assert.deepEqual(back.names(), [...tensors.keys()]);
  for (const [k, t] of back.entries()) assert.ok(rawEqual(t, tensors.get(k) as RawTensor), k);
  rmSync(dir, { recursive: true });
});

test('pickle: integers of every width and containers round trip', () => {
  const w = new PickleWriter();
  w.mark();
  for (const n of [0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 31, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER]) w.int(n);
  w.str('héllo').bool(true).none().tuple();
  assert.deepEqual([...(unpickle(w.bytes()) as unknown[])], [0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 31, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER, 'héllo', true, null]);
});

test('bad .bin files: not a zip, truncated, not a state dict, unsupported storage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lion-bin-'));
  const junk = join(dir, 'junk.bin');
  writeFileSync(junk, 'definitely not a zip archive, just text that goes on for a while.');
  assert.throws(() => TorchBinFile.open(junk), (e: unknown) => e instanceof FormatError && e.file === junk && /not a readable zip archive/.test(e.message));
  const cut = join(dir, 'cut.bin');
  const good = readFileSync(join(fixtures, 'torch_state_dict.bin'));
  writeFileSync(cut, good.subarray(0, good.length - 100));
  assert.throws(() => TorchBinFile.open(cut), (e: unknown) => e instanceof FormatError && e.file === cut && /zip/.test(e.message));

  // A pickled list instead of a dict; then a dict holding a non-tensor.
  const zipWith = (file: string, pkl: Uint8Array): void => {
    writeZipStored(file, [{ name: 'archive/data.pkl', data: pkl }, { name: 'archive/version', data: new TextEncoder().encode('3\n') }]);
  };
  const notDict = join(dir, 'list.bin');
  zipWith(notDict, new PickleWriter().mark().int(1).tuple().bytes());
  assert.throws(() => TorchBinFile.open(notDict), (e: unknown) => e instanceof FormatError && /not a dict of tensors/.test(e.message));
  const nested = join(dir, 'nested.bin');
  zipWith(nested, new PickleWriter().emptyDict().mark().str('state_dict').emptyDict().setItems().bytes());
  assert.throws(() => TorchBinFile.open(nested), (e: unknown) => e instanceof FormatError && e.key === 'state_dict' && /not a tensor/.test(e.message));
  const complex = join(dir, 'complex.bin');
  const w = new PickleWriter().emptyDict().mark().str('z').global('torch._utils', '_rebuild_tensor_v2').mark();
  w.mark().str('storage').global('torch', 'ComplexFloatStorage').str('0').str('cpu').int(1).tuple().binPersId();
  w.int(0).intTuple([1]).intTuple([1]).bool(false).emptyDict().tuple().reduce().setItems();
  zipWith(complex, w.bytes());
  assert.throws(() => TorchBinFile.open(complex), (e: unknown) => e instanceof FormatError && /ComplexFloatStorage/.test(e.message));
  rmSync(dir, { recursive: true });
});

/**
 * A zip built byte by byte: DEFLATE entries, and optionally every size and offset moved to ZIP64
 * fields (as torch.save writes archives above 4 GiB), to reach the reader paths torch's small files do not.
 */
function handZip(entries: { name: string; data: Uint8Array }[], zip64: boolean): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const comp = deflateRawSync(data);
    const nameB = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc32(data) >>> 0, 14);
    local.writeUInt32LE(comp.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameB.length, 26);
    parts.push(local, nameB, comp);
    const extra = Buffer.alloc(zip64 ? 28 : 0);
    if (zip64) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(data.length), 4);
      extra.writeBigUInt64LE(BigInt(comp.length), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(8, 10);
    c.writeUInt32LE(crc32(data) >>> 0, 16);
    c.writeUInt32LE(zip64 ? 0xffffffff : comp.length, 20);
    c.writeUInt32LE(zip64 ? 0xffffffff : data.length, 24);
    c.writeUInt16LE(nameB.length, 28);
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    central.push(c, nameB, extra);
    offset += 30 + nameB.length + comp.length;
  }
  const cd = Buffer.concat(central);
  const tail: Buffer[] = [];
  if (zip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeBigUInt64LE(BigInt(entries.length), 24);
    rec.writeBigUInt64LE(BigInt(entries.length), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(offset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(rec, loc);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : entries.length, 8);
  end.writeUInt16LE(zip64 ? 0xffff : entries.length, 10);
  end.writeUInt32LE(zip64 ? 0xffffffff : cd.length, 12);
  end.writeUInt32LE(zip64 ? 0xffffffff : offset, 16);
  return Buffer.concat([...parts, cd, ...tail, end]);
}

test('zip reader: DEFLATE entries and ZIP64 directories (hand-built archives)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lion-bin-'));
  const f32 = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
  const w = new PickleWriter().global('collections', 'OrderedDict').emptyTuple().reduce().mark().str('w').global('torch._utils', '_rebuild_tensor_v2').mark();
  w.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(6).tuple().binPersId();
  w.int(1).intTuple([2, 2]).intTuple([1, 2]).bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce().setItems();
  for (const zip64 of [false, true]) {
    const f = join(dir, `z${zip64}.bin`);
    writeFileSync(f, handZip([{ name: 'm/data.pkl', data: w.bytes() }, { name: 'm/data/0', data: f32 }, { name: 'm/version', data: new TextEncoder().encode('3\n') }], zip64));
    const z = ZipReader.open(f);
    assert.equal(z.entries.get('m/data/0')?.method, 8);
    assert.deepEqual(z.read('m/data/0', 4, 12), f32.subarray(4, 12));
    // Offset 1, shape [2, 2], strides (1, 2): element [i][j] = storage[1 + i + 2j] = 2 + i + 2j.
    assert.deepEqual(Array.from(rawToNumbers(TorchBinFile.open(f).read('w'))), [2, 4, 3, 5], `zip64 ${zip64}`);
  }
  rmSync(dir, { recursive: true });
});
