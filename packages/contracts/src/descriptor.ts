import { readFileSync } from 'node:fs';
import { readApiContract, type ApiContract } from './api.ts';

// The FileDescriptorSet of every proto in proto/, built by `buf build`; served by gRPC
// server reflection so grpcurl works without the .proto files.
export function descriptorSet(): Buffer {
  return readFileSync(new URL('./descriptor.binpb', import.meta.url));
}

let contract: ApiContract | undefined;
/** The HTTP API, field rules and comments of the protos, read once from the descriptor set. */
export function apiContract(): ApiContract {
  contract ??= readApiContract(descriptorSet());
  return contract;
}
