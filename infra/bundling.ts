/**
 * How every catalog function is bundled: one definition for the CDK stack (NodejsFunction's
 * `bundling`), `npm run bench:bundles` and the test that runs a built bundle, so what is
 * measured and tested is what is deployed.
 *
 * - CommonJS: the Lambda runtime's AWS SDK is CommonJS, and an ES module importing it pays
 *   for Node's scan of every SDK file for named exports (≈ 30 ms of each cold start, measured
 *   by bench:bundles: median init 117–167 ms as ESM, 66–84 ms as CommonJS).
 * - The AWS SDK stays external: the runtime provides it, and bundling it would more than
 *   double every bundle (≈ 425 KB).
 * - No source maps: Node reads them only with --enable-source-maps, which costs 30–50 ms of
 *   every cold start; names are kept so stack traces stay readable.
 * - `import()` compiled to `require`: the SNS client is loaded on first publish
 *   (`shared/platform/aws.ts`); left a real `import()`, it would go through the ES module
 *   loader and pay the same export scan.
 */
export const BUNDLING = {
  format: 'cjs',
  target: 'node22',
  minify: true,
  keepNames: true,
  sourcemap: false,
  external: ['@aws-sdk/*'],
  supported: { 'dynamic-import': false },
} as const;

/** The same options for esbuild's API (the bench and the bundle test build with it directly). */
export const esbuildOptions = (entry: string, outfile: string) => ({
  entryPoints: [entry],
  outfile,
  bundle: true,
  // No mainFields: the stack passes none, so both use esbuild's default for node (main, module).
  platform: 'node' as const,
  format: BUNDLING.format,
  target: BUNDLING.target,
  minify: BUNDLING.minify,
  keepNames: BUNDLING.keepNames,
  sourcemap: BUNDLING.sourcemap,
  external: [...BUNDLING.external],
  supported: { ...BUNDLING.supported },
  logLevel: 'error' as const,
});
