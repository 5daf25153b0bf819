/** What every settings parser shares: the environment's type and the error it throws. */

/** A setting that cannot be used; the message names the variable and the value. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The environment as a plain record, e.g. `Deno.env.toObject()`. */
export type Env = Readonly<Record<string, string | undefined>>;
