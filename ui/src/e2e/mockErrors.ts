import type { Code } from "../bindings/Code";
import type { ApiError } from "../bindings/ApiError";
import type { FieldError } from "../bindings/FieldError";

/** What a fake command throws: the `ApiError` body the real command would reject with. */
export class MockApiError extends Error {
  constructor(readonly body: ApiError) {
    super(body.message);
  }
}

export const fail = (code: Code, message: string, fields: FieldError[] = []): never => {
  throw new MockApiError({ code, message, fields });
};
