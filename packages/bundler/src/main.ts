/**
 * `pnpm build`: bundles an entry for plain `node` (see bundleEntry).
 * Usage: tsx packages/bundler/src/main.ts <entry.ts> <outfile.mjs>
 */
import { bundleEntry } from "./bundle-entry";

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  process.stderr.write("usage: bundle <entry.ts> <outfile.mjs>\n");
  process.exit(2);
}
try {
  const result = await bundleEntry({ entry, outfile });
  process.stdout.write(`bundled ${entry} → ${result.outfile} (${Math.round(result.bytes / 1024)} KB)\n`);
} catch (error) {
  process.stderr.write(`bundle failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
