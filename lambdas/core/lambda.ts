import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";

/**
 * A Lambda entry point around `handler`: every log line of the invocation carries the Lambda
 * context (request id, function name, cold start), as Powertools' `injectLambdaContext` does.
 */
export function withLambdaContext<E, R>(
  logger: Logger,
  handler: (event: E, context: Context) => Promise<R>,
): (event: E, context: Context) => Promise<R> {
  return (event, context) => {
    logger.addContext(context);
    return handler(event, context);
  };
}
