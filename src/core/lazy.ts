/**
 * Dependencies evaluated on first use instead of when the process starts.
 *
 * The CLI is one CommonJS bundle: a package imported statically is evaluated at its start, on every run, even
 * a scan of one pickle that never reads a protobuf, a signature or Python code (protobufjs with `long`, the
 * @sigstore packages and @lezer/python's parse tables cost milliseconds each, of a start-up that counts
 * against issue 13's 10x-of-openssl target: bench/README.md "CLI start-up"). esbuild bundles a dynamic
 * `import('name')` of a literal name as a lazily called module wrapper: the package is still IN the bundle
 * (dist/ runs with no node_modules), but its code runs only when the import is awaited. (Node's own
 * modules are not bundled: a dynamic import of one stays an `import()`, which the CLI's vm.Script cannot run,
 * and build.mjs refuses it. Load them on first use with the synchronous `process.getBuiltinModule`.)
 * test/bundle/lazy.test.ts checks on the built CLI what a pickle scan evaluates.
 *
 * Each deferred module has one loader here, so every user shares the same promise and nothing else imports
 * it at run time (type-only imports are erased and cost nothing).
 */

/** A memoised module load. */
export interface Lazy<T> {
  /** Evaluates the module on the first call; every call returns the same promise. */
  (): Promise<T>;
  /**
   * The module, synchronously, for code reached only through something the module made (a protobufjs type
   * comes from `protobufjs()`, so code given one may test `instanceof` against the module's classes).
   * Throws if no load has completed: a missing `await` of the loader is a bug, not a slow path.
   */
  loaded(): T;
}

export function lazy<T>(load: () => Promise<T>): Lazy<T> {
  let promise: Promise<T> | undefined;
  let value: { module: T } | undefined;
  const get = (): Promise<T> => {
    promise ??= load().then((module) => {
      value = { module };
      return module;
    });
    return promise;
  };
  return Object.assign(get, {
    loaded(): T {
      if (!value) throw new Error('a lazily loaded module was used before its loader was awaited');
      return value.module;
    },
  });
}

/** protobufjs (and `long`, which it loads): the ONNX and TensorFlow schemas and their decoder. */
export const protobufjs = lazy(async () => (await import('protobufjs')).default);

/** The @sigstore packages: model signatures (model.sig) and attestation bundles. */
export const sigstore = lazy(async () => {
  const [bundle, core, specs, verify] = await Promise.all([
    import('@sigstore/bundle'),
    import('@sigstore/core'),
    import('@sigstore/protobuf-specs'),
    import('@sigstore/verify'),
  ]);
  return { bundle, core, specs, verify };
});
export type Sigstore = Awaited<ReturnType<typeof sigstore>>;

/** @lezer/python and the @lezer runtime under it (its parse tables are built when it is evaluated). */
export const lezerPython = lazy(() => import('@lezer/python'));
