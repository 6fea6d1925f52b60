import { type Logger, LogLevelThreshold } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import type { AppLogger } from "./logger.js";

/**
 * The function's Powertools logger as the handlers log through it. A DEBUG line is handed over
 * only when DEBUG is on: Powertools would otherwise still assemble it (and read the environment)
 * before dropping it, on every webhook.
 */
export function appLogger(logger: Logger): AppLogger {
  return {
    debug: (message, ...attributes) => {
      if (logger.level <= LogLevelThreshold.DEBUG) logger.debug(message, ...attributes);
    },
    info: (message, ...attributes) => logger.info(message, ...attributes),
    warn: (message, ...attributes) => logger.warn(message, ...attributes),
    error: (message, ...attributes) => logger.error(message, ...attributes),
  };
}

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
