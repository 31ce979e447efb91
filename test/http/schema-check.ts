/**
 * Checks response bodies against the schemas the OpenAPI document declares for them, so the
 * document (and the viewer and SDK built against it) cannot drift from what the server sends.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = addFormatsModule as unknown as AddFormats;

interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
  components: { schemas: Record<string, unknown> };
}

export class ResponseChecker {
  private readonly ajv = new Ajv({ strict: false, allowUnionTypes: true, allErrors: true });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly doc: OpenApiDoc) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'trailkeep', components: doc.components });
  }

  /** Validation errors as text, or [] when the body matches (or the route declares no body). */
  check(
    method: string,
    template: string,
    status: number,
    body: unknown,
    contentType = 'application/json',
  ): string[] {
    const media = contentType.split(';')[0]!.trim();
    const key = `${method} ${template} ${status} ${media}`;
    let validate = this.cache.get(key);
    if (!validate) {
      const operation = this.doc.paths[template]?.[method.toLowerCase()];
      if (!operation) return [`no operation ${method} ${template} in the document`];
      const response = operation.responses[String(status)];
      if (!response) return [`${method} ${template} does not declare status ${status}`];
      if (media !== 'application/json') {
        return response.content?.[media] ? [] : [`${status} does not declare ${media}`];
      }
      const schema = response.content?.['application/json']?.schema;
      if (schema === undefined) return body === undefined ? [] : [`${status} declares no body`];
      const rewritten = JSON.parse(
        JSON.stringify(schema).replaceAll('"#/components/', '"trailkeep#/components/'),
      ) as object;
      validate = this.ajv.compile(rewritten);
      this.cache.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '$'} ${e.message ?? ''}`);
  }
}
