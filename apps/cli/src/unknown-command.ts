import type { Command } from "commander";

/** Exit code for a usage error (an unknown command), as shells and commander use it. */
export const USAGE_EXIT_CODE = 2;

/** Edit distance (insert, delete, substitute), small strings only: command names. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The known name closest to `word`, or null when none is close enough to be a typo. */
export function nearestName(word: string, names: readonly string[]): string | null {
  const w = word.toLowerCase();
  let best: { name: string; distance: number } | null = null;
  for (const name of names) {
    // A prefix (`recon` → `reconcile`) counts as close whatever its length.
    const distance = name.startsWith(w) ? 1 : editDistance(w, name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (!best) return null;
  return best.distance <= Math.max(2, Math.floor(best.name.length / 3)) ? best.name : null;
}

/**
 * The first argument when it names no command, else null. Checked before commander parses:
 * commander would otherwise let `--help` win (`sparks nonsense --help` printed the root help
 * and exited 0), and a typo must fail a script, not look like success.
 */
export function unknownCommandMessage(program: Command, argv: readonly string[]): string | null {
  const first = argv[0];
  if (first === undefined || first.startsWith("-") || first === "help") return null;
  const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  if (names.includes(first)) return null;
  const near = nearestName(first, names);
  const hint = near ? ` (did you mean \`sparks ${near}\`?)` : "";
  return `unknown command '${first}'${hint}; \`sparks --help\` lists the commands`;
}
