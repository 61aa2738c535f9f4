/**
 * The entry point of a benchmark that starts child processes (servers, generators): `cleanup` ends
 * them when the run fails or is interrupted, so a cut-short benchmark never leaves a pinned process
 * behind on the shared machine.
 */
export function runMain(main: () => Promise<void>, cleanup: () => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  main().catch((error: unknown) => {
    cleanup();
    console.error(error);
    process.exitCode = 1;
  });
}
