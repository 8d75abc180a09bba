// The HTTP API as the proto declares it (ADR 24): every method with a google.api.http rule,
// its passage.api.v1.access options, the field rules next to each field, and the comments of
// the .proto files, read from the descriptor set `pnpm gen` builds. The gateway's routes and
// OpenAPI document, the console's client and the services' request checks all come from here.
import {
  createFileRegistry,
  fromBinary,
  getExtension,
  hasExtension,
  toJson,
  type DescEnum,
  type DescExtension,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  type FileRegistry,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

export type HttpVerb = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/** passage.api.v1.Access, with the defaults filled in. */
export interface Access {
  /** Empty: anyone signed in. */
  readonly roles: readonly string[];
  readonly idempotent: boolean;
  readonly creates: boolean;
  readonly bodyLimitBytes: number;
  readonly timeoutSeconds: number;
  /** No session: the method authenticates by what its request carries. */
  readonly public: boolean;
}

/** passage.api.v1.Field, with the defaults filled in. */
export interface FieldRule {
  readonly required: boolean;
  readonly maxLength: number;
  readonly text: 'line' | 'prose';
  readonly format: '' | 'uuid' | 'slug';
  readonly minItems: number;
  readonly maxItems: number;
  readonly minimum: number | undefined;
  readonly maximum: number | undefined;
  readonly oneOf: readonly string[];
}

export interface HttpMethod {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly verb: HttpVerb;
  /** The path template as declared: "/api/referrals/{referral_id}/accept". */
  readonly path: string;
  /** The request fields the path names ("referral_id", "agency.id"). */
  readonly pathFields: readonly string[];
  /** "*": the rest of the request is the JSON body; a field name: that field is; "": the query string. */
  readonly body: string;
  readonly access: Access;
  /** The method's leading comment in the .proto, or its name. */
  readonly summary: string;
}

export interface ApiContract {
  readonly registry: FileRegistry;
  readonly methods: readonly HttpMethod[];
  rule(field: DescField): FieldRule;
  comment(desc: DescMessage | DescField | DescEnum | DescMethod): string;
  /** The method of a gRPC path ("/passage.referrals.v1.ReferralService/Send"). */
  methodOf(path: string): DescMethod | undefined;
}

const defaultRule: FieldRule = {
  required: false,
  maxLength: 1000,
  text: 'line',
  format: '',
  minItems: 0,
  maxItems: 100,
  minimum: undefined,
  maximum: undefined,
  oneOf: [],
};

/** Reads the contract from a FileDescriptorSet (the bytes of `descriptor.binpb`). */
export function readApiContract(descriptorSet: Uint8Array): ApiContract {
  const set = fromBinary(FileDescriptorSetSchema, descriptorSet);
  const registry = createFileRegistry(set);
  const extension = (name: string): DescExtension => {
    const found = registry.getExtension(name);
    if (!found) throw new Error(`the descriptor set has no extension ${name}: run pnpm gen`);
    return found;
  };
  const httpRule = extension('google.api.http');
  const accessOption = extension('passage.api.v1.access');
  const fieldOption = extension('passage.api.v1.field');
  const asJson = (ext: DescExtension, options: object): Record<string, unknown> =>
    toJson(ext.message as DescMessage, getExtension(options as never, ext) as never, {
      registry,
    }) as Record<string, unknown>;

  // Leading comments by descriptor path, for every file that kept its source info.
  const comments = new Map<string, string>();
  for (const file of set.file) {
    for (const location of file.sourceCodeInfo?.location ?? []) {
      const text = location.leadingComments.trim();
      if (text) comments.set(`${file.name}:${location.path.join(',')}`, text.replace(/\s*\n\s*/g, ' '));
    }
  }
  const pathOf = (desc: DescMessage | DescField | DescEnum | DescMethod): string => {
    switch (desc.kind) {
      case 'message':
        return desc.parent
          ? `${pathOf(desc.parent)},3,${desc.parent.nestedMessages.indexOf(desc)}`
          : `4,${desc.file.messages.indexOf(desc)}`;
      case 'enum':
        return desc.parent
          ? `${pathOf(desc.parent)},4,${desc.parent.nestedEnums.indexOf(desc)}`
          : `5,${desc.file.enums.indexOf(desc)}`;
      case 'field':
        return `${pathOf(desc.parent)},2,${desc.parent.fields.indexOf(desc)}`;
      case 'rpc':
        return `6,${desc.parent.file.services.indexOf(desc.parent)},2,${desc.parent.methods.indexOf(desc)}`;
    }
  };
  const fileOf = (desc: DescMessage | DescField | DescEnum | DescMethod) =>
    desc.kind === 'field' ? desc.parent.file : desc.kind === 'rpc' ? desc.parent.file : desc.file;
  const comment = (desc: DescMessage | DescField | DescEnum | DescMethod): string =>
    comments.get(`${fileOf(desc).proto.name}:${pathOf(desc)}`) ?? '';

  const rules = new Map<DescField, FieldRule>();
  const rule = (field: DescField): FieldRule => {
    const known = rules.get(field);
    if (known) return known;
    const options = field.proto.options;
    let made = defaultRule;
    if (options && hasExtension(options, fieldOption)) {
      const declared = asJson(fieldOption, options);
      const number = (value: unknown) => (value === undefined ? undefined : Number(value));
      made = {
        required: declared['required'] === true,
        maxLength: number(declared['maxLength']) ?? defaultRule.maxLength,
        text: declared['text'] === 'TEXT_PROSE' ? 'prose' : 'line',
        format: declared['format'] === 'FORMAT_UUID' ? 'uuid' : declared['format'] === 'FORMAT_SLUG' ? 'slug' : '',
        minItems: number(declared['minItems']) ?? (declared['required'] === true ? 1 : 0),
        maxItems: number(declared['maxItems']) ?? defaultRule.maxItems,
        minimum: number(declared['minimum']),
        maximum: number(declared['maximum']),
        oneOf: (declared['oneOf'] as string[] | undefined) ?? [],
      };
    }
    rules.set(field, made);
    return made;
  };

  const methods: HttpMethod[] = [];
  const byPath = new Map<string, DescMethod>();
  for (const file of registry.files) {
    for (const service of file.services) {
      for (const method of service.methods) {
        byPath.set(`/${service.typeName}/${method.name}`, method);
        const options = method.proto.options;
        if (!options || !hasExtension(options, httpRule)) continue;
        const http = asJson(httpRule, options);
        const verb = (['get', 'post', 'put', 'delete', 'patch'] as const).find((v) => typeof http[v] === 'string');
        if (!verb) throw new Error(`${method.name}: a google.api.http rule needs a verb`);
        const path = http[verb] as string;
        const access = hasExtension(options, accessOption) ? asJson(accessOption, options) : {};
        methods.push({
          service,
          method,
          verb: verb.toUpperCase() as HttpVerb,
          path,
          pathFields: [...path.matchAll(/\{([a-z0-9_.]+)\}/g)].map((m) => m[1]!),
          body: typeof http['body'] === 'string' ? http['body'] : '',
          access: {
            roles: (access['roles'] as string[] | undefined) ?? [],
            idempotent: access['idempotent'] === true,
            creates: access['creates'] === true,
            bodyLimitBytes: Number(access['bodyLimitBytes'] ?? 0),
            timeoutSeconds: Number(access['timeoutSeconds'] ?? 0),
            public: access['public'] === true,
          },
          summary: comment(method) || method.name,
        });
      }
    }
  }
  return { registry, methods, rule, comment, methodOf: (path) => byPath.get(path) };
}

/**
 * The fields a dotted path reaches, by proto names ("agency.id") or by JSON names
 * ("range.since"); undefined when a name is unknown or the path crosses a field that is not a
 * message.
 */
export function fieldPath(
  message: DescMessage,
  names: readonly string[],
  by: 'name' | 'jsonName' = 'name',
): DescField[] | undefined {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (const name of names) {
    const field: DescField | undefined = current?.fields.find((f) => f[by] === name);
    if (!field) return undefined;
    fields.push(field);
    current = field.fieldKind === 'message' ? field.message : undefined;
  }
  return fields;
}
