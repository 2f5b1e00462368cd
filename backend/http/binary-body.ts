// Routes whose body is binary (a batch, a firmware image) declare no body
// schema: fastify would validate the Buffer, and the handler checks the
// bytes itself (decodeBatch, parseHeader). This puts the content types they
// take into /openapi.json all the same.

import { jsonSchemaTransform } from 'fastify-type-provider-zod';

type Transform = typeof jsonSchemaTransform;

export function binaryBody(types: string[]): Transform {
  return (document) => {
    const out = jsonSchemaTransform(document);
    return { ...out, schema: { ...out.schema, body: { type: 'string', format: 'binary' }, consumes: types } };
  };
}
