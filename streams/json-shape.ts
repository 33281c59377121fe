// Type-checks request JSON the way nats-server's Go json.Unmarshal does, so a wrongly typed field
// is answered with the same 10025 "invalid JSON: json: cannot unmarshal ..." a Go server sends,
// instead of reaching the stream layer as a string where a number belongs. Unknown fields are
// ignored (as Go does); null is the zero value.

export type FieldKind =
  | 'string'
  | 'bool'
  | 'int'
  | 'uint'
  | 'int32'
  | 'duration'
  | 'strings'
  | 'object'
  | 'objects'
  | 'stringmap'
  | 'time'
  | { readonly enumOf: readonly string[] };

export type ShapeSpec = Readonly<Record<string, FieldKind>>;

const GO_TYPE: Record<string, string> = {
  string: 'string',
  bool: 'bool',
  int: 'int64',
  uint: 'uint64',
  int32: 'int32',
  duration: 'time.Duration',
  strings: '[]string',
  object: 'struct',
  objects: '[]struct',
  stringmap: 'map[string]string',
  time: 'time.Time',
};

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return 'number';
  return typeof v;
}

function unmarshalError(structName: string, field: string, kind: FieldKind, value: unknown): string {
  const goType = typeof kind === 'object' ? 'string' : GO_TYPE[kind]!;
  const got = typeof value === 'number' ? `number ${value}` : jsonKind(value);
  return `json: cannot unmarshal ${got} into Go struct field ${structName}.${field} of type ${goType}`;
}

function checkInt(v: number, min: number, max: number): boolean {
  return Number.isInteger(v) && v >= min && v <= max;
}

/**
 * Checks each present field of `obj` against `spec`. Returns the Go-style error text for the first
 * mismatch, or undefined when the shape is acceptable.
 */
export function checkShape(structName: string, obj: Record<string, unknown>, spec: ShapeSpec): string | undefined {
  for (const field of Object.keys(spec)) {
    const value = obj[field];
    if (value === undefined || value === null) continue;
    const kind = spec[field]!;
    let ok: boolean;
    if (typeof kind === 'object') {
      if (typeof value !== 'string') return unmarshalError(structName, field, kind, value);
      ok = kind.enumOf.includes(value);
      if (!ok) return `can not unmarshal ${JSON.stringify(value)}`;
      continue;
    }
    switch (kind) {
      case 'string':
      case 'time':
        ok = typeof value === 'string';
        break;
      case 'bool':
        ok = typeof value === 'boolean';
        break;
      case 'int':
      case 'duration':
        ok = typeof value === 'number' && checkInt(value, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
        break;
      case 'uint':
        ok = typeof value === 'number' && checkInt(value, 0, Number.MAX_SAFE_INTEGER);
        break;
      case 'int32':
        ok = typeof value === 'number' && checkInt(value, -2147483648, 2147483647);
        break;
      case 'strings':
        ok = Array.isArray(value) && value.every((s) => typeof s === 'string');
        break;
      case 'object':
        ok = typeof value === 'object' && !Array.isArray(value);
        break;
      case 'objects':
        ok = Array.isArray(value) && value.every((o) => typeof o === 'object' && o !== null && !Array.isArray(o));
        break;
      case 'stringmap':
        ok =
          typeof value === 'object' &&
          !Array.isArray(value) &&
          Object.values(value as object).every((s) => typeof s === 'string');
        break;
    }
    if (!ok) return unmarshalError(structName, field, kind, value);
  }
  return undefined;
}

/**
 * Parses a request body as a JSON object. Empty bodies are `{}` when `emptyOk`. Returns the
 * object, or the error text for a 10025 (Go's wording is not reproducible byte for byte; the
 * err_code is what clients use).
 */
export function parseJsonObject(
  body: Uint8Array,
  emptyOk: boolean,
): { ok: true; value: Record<string, unknown> } | { ok: false; err: string } {
  if (body.length === 0 || isBlank(body)) {
    return emptyOk ? { ok: true, value: {} } : { ok: false, err: 'unexpected end of JSON input' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (e) {
    return { ok: false, err: (e as Error).message };
  }
  if (parsed === null) return { ok: true, value: {} };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, err: `json: cannot unmarshal ${jsonKind(parsed)} into Go value of type struct` };
  }
  return { ok: true, value: parsed as Record<string, unknown> };
}

function isBlank(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}
