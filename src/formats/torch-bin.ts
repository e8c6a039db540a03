/**
 * PyTorch `.bin` state dicts (`torch.save`, zip format): read lazily, and written compatibly.
 *
 * The archive holds `<prefix>/data.pkl` (a pickle of an OrderedDict of tensors, each rebuilt by
 * `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` with the storage given as a
 * persistent id `('storage', torch.FloatStorage, key, location, numel)`) and one entry
 * `<prefix>/data/<key>` of raw little-endian bytes per storage. Reading parses the pickle (small)
 * up front and reads each tensor's bytes from the zip on demand, honouring offset and strides.
 * @module
 */
import { FormatError } from './errors.ts';
import { PickleError, PickleWriter, PyGlobal, unpickle } from './pickle.ts';
import { numel, RAW_DTYPE_BYTES, type RawDType, type RawTensor } from './raw-tensor.ts';
import { tensorEntries, type TensorEntries, type TensorInfo, type TensorSource } from './tensor-source.ts';
import { writeZipStored, ZipReader, type ZipInput } from './zip.ts';

/** torch's legacy storage class names and their element types. */
const STORAGE_DTYPES: Readonly<Record<string, RawDType>> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64', LongStorage: 'I64',
  IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};
const DTYPE_STORAGES: Readonly<Record<RawDType, string>> = Object.fromEntries(Object.entries(STORAGE_DTYPES).map(([k, v]) => [v, k])) as Record<RawDType, string>;

interface StorageRef {
  key: string;
  dtype: RawDType;
  numel: number;
}

/** Where one tensor's elements live inside a storage. */
interface TensorRef {
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

class TensorRefBox {
  constructor(readonly ref: TensorRef) {}
}

function intList(x: unknown, what: string): number[] {
  if (!Array.isArray(x) || !x.every((d) => typeof d === 'number' && Number.isSafeInteger(d))) throw new PickleError(`${what} is not a tuple of integers`);
  return x as number[];
}

/** A torch.save'd state dict opened for lazy reading. */
export class TorchBinFile implements TensorSource {
  readonly path: string;
  readonly #zip: ZipReader;
  readonly #prefix: string;
  readonly #refs: Map<string, TensorRef>;

  private constructor(path: string, zip: ZipReader, prefix: string, refs: Map<string, TensorRef>) {
    this.path = path;
    this.#zip = zip;
    this.#prefix = prefix;
    this.#refs = refs;
  }

  /**
   * Opens a `.bin` and parses its pickle. @throws FormatError for a legacy (non-zip) file, a pickle
   * that is not a flat dict of tensors, or an unsupported storage type, naming the key.
   */
  static open(path: string): TorchBinFile {
    const zip = ZipReader.open(path);
    const pkl = [...zip.entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
    if (pkl === undefined) throw new FormatError(path, 'zip archive has no data.pkl; not a torch.save file');
    const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
    const order = zip.entries.get(`${prefix}byteorder`);
    if (order !== undefined) {
      const bo = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
      if (bo !== 'little') throw new FormatError(path, `storages are '${bo}'-endian; only little-endian is supported`);
    }
    const storages = new Map<string, StorageRef>();
    let root: unknown;
    try {
      root = unpickle(zip.read(pkl), {
        persistentLoad(pid) {
          if (!Array.isArray(pid) || pid[0] !== 'storage') throw new PickleError(`unexpected persistent id ${JSON.stringify(pid)}`);
          const [, cls, key, , n] = pid as unknown[];
          if (!(cls instanceof PyGlobal)) throw new PickleError('storage type is not a class');
          const dtype = STORAGE_DTYPES[cls.name];
          if (dtype === undefined) throw new PickleError(`unsupported storage type ${cls.qualified}`);
          const k = String(key);
          const s: StorageRef = { key: k, dtype, numel: typeof n === 'number' ? n : -1 };
          storages.set(k, s);
          return s;
        },
        call(f, args) {
          if (!(f instanceof PyGlobal)) return undefined;
          switch (f.qualified) {
            case 'collections.OrderedDict':
              return new Map();
            case 'torch._utils._rebuild_tensor_v2':
            case 'torch._utils._rebuild_tensor': {
              const [storage, offset, size, stride] = args;
              if (typeof storage !== 'object' || storage === null || !('key' in storage)) throw new PickleError('tensor without a storage');
              if (typeof offset !== 'number') throw new PickleError('tensor storage offset is not an integer');
              return new TensorRefBox({ storage: storage as StorageRef, offset, shape: intList(size, 'tensor size'), stride: intList(stride, 'tensor stride') });
            }
            case 'torch._utils._rebuild_parameter':
            case 'torch._utils._rebuild_parameter_with_state':
              return args[0];
            default:
              return undefined;
          }
        },
      });
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new FormatError(path, `cannot read ${pkl}: ${(e as Error).message}`, { cause: e });
    }
    if (!(root instanceof Map)) throw new FormatError(path, 'the pickled object is not a dict of tensors (a state dict)', { hint: 'save with torch.save(model.state_dict(), path)' });
    const refs = new Map<string, TensorRef>();
    for (const [k, v] of root) {
      if (typeof k !== 'string') throw new FormatError(path, `state dict key ${String(k)} is not a string`);
      if (!(v instanceof TensorRefBox)) throw new FormatError(path, 'state dict value is not a tensor', { key: k, keyKind: 'tensor', hint: 'nested dicts (e.g. {"state_dict": ...}) are not supported' });
      const r = v.ref;
      if (r.shape.length !== r.stride.length || r.shape.some((d) => d < 0) || r.stride.some((s) => s < 0) || r.offset < 0) {
        throw new FormatError(path, `bad size ${JSON.stringify(r.shape)} / stride ${JSON.stringify(r.stride)} / offset ${r.offset}`, { key: k, keyKind: 'tensor' });
      }
      const entry = zip.entries.get(`${prefix}data/${r.storage.key}`);
      if (entry === undefined) throw new FormatError(path, `storage data/${r.storage.key} is missing from the archive`, { key: k, keyKind: 'tensor' });
      const es = RAW_DTYPE_BYTES[r.storage.dtype];
      if (entry.size % es !== 0) throw new FormatError(path, `storage data/${r.storage.key} has ${entry.size} bytes, not a multiple of its ${r.storage.dtype} element size`, { key: k, keyKind: 'tensor' });
      if (numel(r.shape) > 0 && (r.offset + maxIndex(r) + 1) * es > entry.size) {
        throw new FormatError(path, `tensor reaches element ${r.offset + maxIndex(r)} of a storage with ${entry.size / es} elements`, { key: k, keyKind: 'tensor' });
      }
      refs.set(k, r);
    }
    return new TorchBinFile(path, zip, prefix, refs);
  }

  names(): string[] {
    return [...this.#refs.keys()];
  }

  has(name: string): boolean {
    return this.#refs.has(name);
  }

  info(name: string): TensorInfo {
    const r = this.#ref(name);
    return { dtype: r.storage.dtype, shape: [...r.shape], byteLength: numel(r.shape) * RAW_DTYPE_BYTES[r.storage.dtype] };
  }

  read(name: string): RawTensor {
    const r = this.#ref(name);
    const es = RAW_DTYPE_BYTES[r.storage.dtype];
    const n = numel(r.shape);
    const dtype = r.storage.dtype;
    if (n === 0) return { dtype, shape: [...r.shape], data: new Uint8Array(0) };
    // Only the window of the storage this tensor can touch is read.
    const window = this.#zip.read(`${this.#prefix}data/${r.storage.key}`, r.offset * es, (r.offset + maxIndex(r) + 1) * es);
    if (isContiguous(r.shape, r.stride)) return { dtype, shape: [...r.shape], data: window };
    const out = new Uint8Array(n * es);
    const idx = new Array<number>(r.shape.length).fill(0);
    for (let i = 0; i < n; i++) {
      let src = 0;
      for (let d = 0; d < idx.length; d++) src += (idx[d] as number) * (r.stride[d] as number);
      out.set(window.subarray(src * es, src * es + es), i * es);
      for (let d = idx.length - 1; d >= 0; d--) {
        idx[d] = (idx[d] as number) + 1;
        if ((idx[d] as number) < (r.shape[d] as number)) break;
        idx[d] = 0;
      }
    }
    return { dtype, shape: [...r.shape], data: out };
  }

  *entries(): IterableIterator<[string, RawTensor]> {
    for (const name of this.#refs.keys()) yield [name, this.read(name)];
  }

  #ref(name: string): TensorRef {
    const r = this.#refs.get(name);
    if (r === undefined) throw new FormatError(this.path, 'no such tensor in this file', { key: name, keyKind: 'tensor' });
    return r;
  }
}

function maxIndex(r: TensorRef): number {
  let m = 0;
  r.shape.forEach((d, i) => (m += (d - 1) * (r.stride[i] as number)));
  return m;
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if ((shape[d] as number) !== 1 && stride[d] !== expect) return false;
    expect *= shape[d] as number;
  }
  return true;
}

/**
 * Writes tensors as `torch.save(OrderedDict)` would (zip, protocol-2 pickle, one storage per tensor,
 * `archive/` prefix, version 3), atomically. `torch.load` reads the result.
 */
export function writeTorchStateDict(path: string, tensors: TensorEntries): void {
  const list = tensorEntries(tensors);
  const prefix = 'archive';
  const w = new PickleWriter();
  w.global('collections', 'OrderedDict').emptyTuple().reduce();
  const storages: ZipInput[] = [];
  if (list.length > 0) w.mark();
  list.forEach(([name, t], i) => {
    const need = numel(t.shape) * RAW_DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== need) throw new FormatError(path, `tensor data has ${t.data.byteLength} bytes but ${t.dtype}[${t.shape.join(', ')}] needs ${need}`, { key: name, keyKind: 'tensor' });
    const key = String(i);
    const stride: number[] = [];
    let s = 1;
    for (let d = t.shape.length - 1; d >= 0; d--) {
      stride[d] = s;
      s *= t.shape[d] as number;
    }
    w.str(name);
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.mark();
    w.mark().str('storage').global('torch', DTYPE_STORAGES[t.dtype]).str(key).str('cpu').int(numel(t.shape)).tuple().binPersId();
    w.int(0).intTuple(t.shape).intTuple(stride).bool(false);
    w.global('collections', 'OrderedDict').emptyTuple().reduce();
    w.tuple().reduce();
    storages.push({ name: `${prefix}/data/${key}`, data: t.data });
  });
  if (list.length > 0) w.setItems();
  writeZipStored(path, [
    { name: `${prefix}/data.pkl`, data: w.bytes() },
    { name: `${prefix}/byteorder`, data: new TextEncoder().encode('little') },
    ...storages,
    { name: `${prefix}/version`, data: new TextEncoder().encode('3\n') },
  ]);
}
