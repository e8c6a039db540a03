/**
 * A small, safe unpickler and pickler for the subset of Python's pickle that `torch.save` uses.
 *
 * Nothing is ever executed: GLOBAL opcodes yield a `PyGlobal` naming the class or function, and
 * REDUCE / NEWOBJ / BUILD go through caller-supplied hooks (torch-bin.ts turns
 * `torch._utils._rebuild_tensor_v2` into a tensor reference, `collections.OrderedDict` into a Map).
 * Anything unknown stays an inert `PyObject`. Covers protocols 0–5 as far as pickled state dicts go.
 * @module
 */

/** A module-level name from a GLOBAL / STACK_GLOBAL opcode, e.g. torch . FloatStorage. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** The result of calling something the hooks did not recognise; kept inert. */
export class PyObject {
  state: unknown = undefined;
  constructor(
    readonly callable: unknown,
    readonly args: unknown[],
  ) {}
}

/** A Python tuple (kept apart from lists so that shapes and persistent ids read clearly). */
export class PyTuple extends Array<unknown> {}

export interface UnpickleHooks {
  /** REDUCE (callable(*args)) and NEWOBJ; return undefined to get a PyObject. */
  call?(callable: unknown, args: unknown[]): unknown;
  /** BINPERSID / PERSID. */
  persistentLoad?(pid: unknown): unknown;
}

export class PickleError extends Error {}

function tuple(items: unknown[]): PyTuple {
  const t = new PyTuple();
  for (const x of items) t.push(x);
  return t;
}

/** Unpickles `data` (one pickle, up to STOP). */
export function unpickle(data: Uint8Array, hooks: UnpickleHooks = {}): unknown {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8');
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let p = 0;

  const need = (n: number): void => {
    if (p + n > data.byteLength) throw new PickleError(`pickle ends early at byte ${p} (needs ${n} more)`);
  };
  const u8 = (): number => { need(1); return data[p++] as number; };
  const u16 = (): number => { need(2); const x = view.getUint16(p, true); p += 2; return x; };
  const u32 = (): number => { need(4); const x = view.getUint32(p, true); p += 4; return x; };
  const i32 = (): number => { need(4); const x = view.getInt32(p, true); p += 4; return x; };
  const u64 = (): number => { need(8); const x = Number(view.getBigUint64(p, true)); p += 8; return x; };
  const bytes = (n: number): Uint8Array => { need(n); const b = data.subarray(p, p + n); p += n; return b; };
  const line = (): string => {
    const end = data.indexOf(0x0a, p);
    if (end < 0) throw new PickleError(`pickle line at byte ${p} has no newline`);
    const s = latin1.decode(data.subarray(p, end));
    p = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw new PickleError(`pickle stack underflow at byte ${p}`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw new PickleError(`pickle stack underflow at byte ${p}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) throw new PickleError(`pickle MARK missing at byte ${p}`);
    stack = prev;
    return items;
  };
  const longLE = (b: Uint8Array): number | bigint => {
    if (b.byteLength === 0) return 0;
    let x = 0n;
    for (let i = b.byteLength - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i] as number);
    if (((b[b.byteLength - 1] as number) & 0x80) !== 0) x -= 1n << BigInt(8 * b.byteLength);
    return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
  };
  const call = (callable: unknown, args: unknown[]): unknown => {
    const r = hooks.call?.(callable, args);
    return r === undefined ? new PyObject(callable, args) : r;
  };
  const setItem = (d: unknown, k: unknown, v: unknown): void => {
    if (d instanceof Map) d.set(k, v);
    else if (d instanceof PyObject) {
      // dict subclasses rebuilt as objects: keep their items as state
      if (!(d.state instanceof Map)) d.state = new Map();
      (d.state as Map<unknown, unknown>).set(k, v);
    } else throw new PickleError(`SETITEM on a non-dict at byte ${p}`);
  };

  for (;;) {
    const at = p;
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME: framing is transparent here
      case 0x2e: // STOP
        if (stack.length !== 1) throw new PickleError(`pickle ends with ${stack.length} values on the stack`);
        return stack[0];
      case 0x28: metastack.push(stack); stack = []; break; // MARK
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x74: { const items = popMark(); stack.push(tuple(items)); break; } // TUPLE (pop first: popMark swaps `stack`)
      case 0x85: stack.push(tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(tuple([a, b, c])); break; } // TUPLE3
      case 0x6c: { const items = popMark(); stack.push(items); break; } // LIST
      case 0x64: { // DICT
        const items = popMark();
        const m = new Map();
        for (let i = 0; i + 1 < items.length; i += 2) m.set(items[i], items[i + 1]);
        stack.push(m);
        break;
      }
      case 0x91: { const items = popMark(); stack.push(new Set(items)); break; } // FROZENSET
      case 0x90: { const items = popMark(); const s = top(); if (s instanceof Set) for (const x of items) s.add(x); break; } // ADDITEMS
      case 0x61: { const v = pop(); const l = top(); if (!Array.isArray(l)) throw new PickleError(`APPEND on a non-list at byte ${at}`); l.push(v); break; } // APPEND
      case 0x65: { const items = popMark(); const l = top(); if (!Array.isArray(l)) throw new PickleError(`APPENDS on a non-list at byte ${at}`); l.push(...items); break; } // APPENDS
      case 0x73: { const v = pop(); const k = pop(); setItem(top(), k, v); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = top();
        for (let i = 0; i + 1 < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(longLE(bytes(u8()))); break; // LONG1
      case 0x8b: stack.push(longLE(bytes(u32()))); break; // LONG4
      case 0x47: { need(8); stack.push(view.getFloat64(p, false)); p += 8; break; } // BINFLOAT (big-endian)
      case 0x49: { const s = line(); stack.push(s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10)); break; } // INT
      case 0x4c: stack.push(Number.parseInt(line().replace(/L$/, ''), 10)); break; // LONG
      case 0x46: stack.push(Number.parseFloat(line())); break; // FLOAT
      case 0x58: stack.push(utf8.decode(bytes(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(utf8.decode(bytes(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(utf8.decode(bytes(u64()))); break; // BINUNICODE8
      case 0x54: stack.push(latin1.decode(bytes(u32()))); break; // BINSTRING
      case 0x55: stack.push(latin1.decode(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(bytes(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(bytes(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(bytes(u64()).slice()); break; // BINBYTES8
      case 0x63: { const module = line(); const name = line(); stack.push(new PyGlobal(module, name)); break; } // GLOBAL
      case 0x93: { const name = pop(); const module = pop(); stack.push(new PyGlobal(String(module), String(name))); break; } // STACK_GLOBAL
      case 0x52: { const args = pop(); const f = pop(); stack.push(call(f, Array.isArray(args) ? [...args] : [args])); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); stack.push(call(cls, Array.isArray(args) ? [...args] : [args])); break; } // NEWOBJ
      case 0x92: { const kw = pop(); const args = pop(); const cls = pop(); stack.push(call(cls, [...(Array.isArray(args) ? args : [args]), kw])); break; } // NEWOBJ_EX
      case 0x62: { // BUILD: __setstate__; inert objects keep the state, Maps ignore it (OrderedDict `_metadata`)
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) obj.state = state;
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (hooks.persistentLoad === undefined) throw new PickleError(`persistent id at byte ${at} but no persistentLoad hook`);
        stack.push(hooks.persistentLoad(pid));
        break;
      }
      case 0x50: { // PERSID
        const pid = line();
        if (hooks.persistentLoad === undefined) throw new PickleError(`persistent id at byte ${at} but no persistentLoad hook`);
        stack.push(hooks.persistentLoad(pid));
        break;
      }
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x70: memo.set(Number.parseInt(line(), 10), top()); break; // PUT
      case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : Number.parseInt(line(), 10);
        if (!memo.has(k)) throw new PickleError(`memo key ${k} missing at byte ${at}`);
        stack.push(memo.get(k));
        break;
      }
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      default:
        throw new PickleError(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }
}

/**
 * A pickle builder for protocol 2, writing only what a torch state dict needs. Each method appends
 * opcodes; `bytes()` ends with STOP.
 */
export class PickleWriter {
  #parts: number[] = [0x80, 2];

  #push(...b: number[]): this {
    for (const x of b) this.#parts.push(x);
    return this;
  }

  #raw(b: Uint8Array): this {
    for (const x of b) this.#parts.push(x);
    return this;
  }

  #u32(n: number): number[] {
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  }

  mark(): this { return this.#push(0x28); }
  tuple(): this { return this.#push(0x74); }
  emptyTuple(): this { return this.#push(0x29); }
  emptyDict(): this { return this.#push(0x7d); }
  setItems(): this { return this.#push(0x75); }
  reduce(): this { return this.#push(0x52); }
  binPersId(): this { return this.#push(0x51); }
  bool(b: boolean): this { return this.#push(b ? 0x88 : 0x89); }
  none(): this { return this.#push(0x4e); }

  global(module: string, name: string): this {
    return this.#push(0x63).#raw(new TextEncoder().encode(`${module}\n${name}\n`));
  }

  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.#push(0x58, ...this.#u32(b.byteLength)).#raw(b);
  }

  /** An integer, with the smallest opcode (BININT1/2, BININT, LONG1) as CPython chooses. */
  int(n: number): this {
    if (!Number.isSafeInteger(n)) throw new RangeError(`pickle int ${n} is not a safe integer`);
    if (n >= 0 && n < 256) return this.#push(0x4b, n);
    if (n >= 0 && n < 65536) return this.#push(0x4d, n & 0xff, n >>> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) return this.#push(0x4a, ...this.#u32(n >>> 0));
    let x = BigInt(n);
    const out: number[] = [];
    while (x !== 0n && x !== -1n) {
      out.push(Number(x & 0xffn));
      x >>= 8n;
    }
    // A sign byte when the top bit disagrees with the sign.
    if (n > 0 && ((out[out.length - 1] as number) & 0x80) !== 0) out.push(0);
    if (n < 0 && ((out[out.length - 1] as number) & 0x80) === 0) out.push(0xff);
    return this.#push(0x8a, out.length, ...out);
  }

  /** A tuple of integers. */
  intTuple(xs: readonly number[]): this {
    if (xs.length === 0) return this.emptyTuple();
    this.mark();
    for (const x of xs) this.int(x);
    return this.tuple();
  }

  bytes(): Uint8Array {
    return Uint8Array.from([...this.#parts, 0x2e]);
  }
}
