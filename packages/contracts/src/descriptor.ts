import { readFileSync } from 'node:fs';

// The FileDescriptorSet of every proto in proto/, built by `buf build`; served by gRPC
// server reflection so grpcurl works without the .proto files.
export function descriptorSet(): Buffer {
  return readFileSync(new URL('./descriptor.binpb', import.meta.url));
}
