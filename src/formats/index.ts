/**
 * Model file formats, free of libtorch: tensors come out as RawTensor (little-endian bytes).
 * @module
 */
export * from './raw-tensor.ts';
export { FormatError } from './errors.ts';
export { readAll, tensorEntries, type TensorEntries, type TensorInfo, type TensorSource } from './tensor-source.ts';
export {
  MAX_HEADER_BYTES, openSafetensors, parseSafetensorsHeader, readSafetensorsHeader, readShardIndex, SafetensorsFile, ShardedCheckpoint,
  writeSafetensors, writeSafetensorsCheckpoint,
  type SafetensorsEntry, type SafetensorsHeader, type ShardIndex, type WriteSafetensorsOptions, type WriteShardedOptions,
} from './safetensors.ts';
export { eosTokenIds, llamaConfigToJson, parseLlamaConfig, readLlamaConfig, writeLlamaConfig, type Llama3RopeScaling, type LlamaConfig } from './hf-config.ts';
export { Llama2cCheckpoint, llama2cConfig, permuteRopeRows, readLlama2cCheckpoint, writeLlama2cCheckpoint, type Llama2cHeader } from './llama2c.ts';
export { TorchBinFile, writeTorchStateDict } from './torch-bin.ts';
export {
  checkAdapterFitsModel, layoutOfBaseClass, LORA_TARGETS, loraScaling, loraTargetShape, normalizeLoraWeights, parseLoraConfig, parsePeftKey, peftKey,
  readLoraConfig, readPeftAdapter, writePeftAdapter,
  type LoraConfig, type LoraPair, type LoraTarget, type PeftAdapter, type PeftLayout, type WritePeftOptions,
} from './peft.ts';
export { openCheckpoint } from './checkpoint.ts';
