import type { Sql } from "postgres";

type Unsafe = Sql["unsafe"];

/**
 * drizzle's `db.execute(sql)` asks postgres.js for an unprepared statement, and postgres.js then
 * spends two round trips on any statement with parameters (Parse + Describe to learn their
 * types, then Bind + Execute) while Postgres parses and plans it anew every time: in the push,
 * that was a third of the worker's CPU in socket writes. Named and cached per connection, a
 * repeat is one round trip and no parse. Only statements with parameters are prepared: their
 * text is fixed (values travel as parameters), so the per-connection cache stays small, while
 * parameterless text may carry inlined values. Transactions and savepoints get the same.
 * (postgres.js re-prepares on its own when a migration invalidates a cached plan.)
 */
export function preparingStatements<T extends Sql>(sql: T): T {
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === "unsafe") {
        const unsafe: Unsafe = (query, parameters, options) =>
          target.unsafe(query, parameters, {
            ...options,
            prepare: parameters !== undefined && parameters.length > 0,
          });
        return unsafe;
      }
      if (prop === "begin" || prop === "savepoint") {
        const original = Reflect.get(target, prop, receiver) as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => {
          const last = args.length - 1;
          const callback = args[last];
          if (typeof callback === "function") {
            args[last] = (inner: Sql) => callback(preparingStatements(inner));
          }
          return original.apply(target, args);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}
