/**
 * openCheckpoint: one TensorSource over whatever weights a model folder holds.
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FormatError } from './errors.ts';
import { Llama2cCheckpoint } from './llama2c.ts';
import { SafetensorsFile, ShardedCheckpoint } from './safetensors.ts';
import type { TensorSource } from './tensor-source.ts';
import { TorchBinFile } from './torch-bin.ts';

/**
 * Opens model weights lazily. A folder is searched for, in order: `model.safetensors.index.json`,
 * `model.safetensors`, `pytorch_model.bin.index.json`, `pytorch_model.bin`. A file is read by its
 * name: `*.safetensors`, `*.index.json` (shards of either kind), `*.bin` (a torch.save zip, or a
 * llama2.c checkpoint when it is not a zip).
 */
export function openCheckpoint(pathOrDir: string): TensorSource {
  const p = resolve(pathOrDir);
  if (!existsSync(p)) throw new FormatError(pathOrDir, 'no such file or folder');
  if (statSync(p).isDirectory()) {
    for (const name of ['model.safetensors.index.json', 'model.safetensors', 'pytorch_model.bin.index.json', 'pytorch_model.bin']) {
      if (existsSync(join(p, name))) return openCheckpoint(join(p, name));
    }
    throw new FormatError(pathOrDir, 'no model weights in this folder (model.safetensors[.index.json] or pytorch_model.bin[.index.json])', { hint: 'point at a Hugging Face model folder' });
  }
  if (p.endsWith('.index.json')) return new ShardedCheckpoint(p, (f) => (f.endsWith('.bin') ? TorchBinFile.open(f) : SafetensorsFile.open(f)));
  if (p.endsWith('.safetensors')) return SafetensorsFile.open(p);
  if (p.endsWith('.bin')) {
    try {
      return TorchBinFile.open(p);
    } catch (e) {
      // Not a zip archive: maybe a llama2.c checkpoint; if that fails too, report the zip problem.
      try {
        return Llama2cCheckpoint.open(p);
      } catch {
        throw e;
      }
    }
  }
  throw new FormatError(pathOrDir, 'unknown weights file type', { hint: 'expected .safetensors, .index.json or .bin' });
}
